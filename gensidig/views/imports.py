"""Importing the org chart from the web: upload, look at what will change, apply."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gensidig.forms.organisation import ChartUploadForm
from gensidig.models import AuditAction, ChartUpload
from gensidig.services.organisation.chart import (
    COLUMN_NAMES,
    ChartRejected,
    LeavingNotConfirmed,
    apply_import,
    chart_from_json,
    chart_to_json,
    plan_import,
    read_chart,
)
from gensidig.services.scheduled import clear_stale_chart_uploads

from .auditing import record
from .scoping import get_organisation_for_admin

PREVIEW_ROWS = 50


def _column_help() -> list[tuple]:
    """(column names, what the column holds) for the upload page's table of columns."""
    holds = {
        "email": _("The person's e-mail address."),
        "name": _("Their name."),
        "manager_email": _("Their manager's e-mail address; empty at the top of the chart."),
        "unit": _("Their unit; a team is named after its chief's unit."),
        "title": _("Their job title."),
        "language": _("da or en: the language they are invited in. Empty: Danish for someone new."),
    }
    return [(name, holds[name.column]) for name in COLUMN_NAMES]


@login_required
@require_http_methods(["GET", "POST"])
def upload(request, slug: str):
    organisation = get_organisation_for_admin(request, slug)
    clear_stale_chart_uploads()  # the worker does it daily; here too, so a day-old upload is never previewed
    form = ChartUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        chart_file = form.cleaned_data["chart"]
        data = chart_file.read()
        # Read once, here; the preview and the apply use what was read (the file stays for the record).
        parsed = chart_to_json(read_chart(data=data, filename=chart_file.name))
        stored = ChartUpload.objects.create(
            organisation=organisation, uploaded_by=request.user, filename=chart_file.name, data=data, parsed=parsed
        )
        return redirect("gensidig:org-import-preview", slug=slug, public_id=stored.public_id)
    return render(
        request,
        "gensidig/imports/upload.html",
        {"organisation": organisation, "form": form, "columns": _column_help()},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def preview(request, slug: str, public_id: str):
    organisation = get_organisation_for_admin(request, slug)
    stored = ChartUpload.objects.filter(
        organisation=organisation, public_id=public_id, uploaded_by=request.user
    ).first()
    if stored is None:
        raise Http404
    if stored.parsed is None:  # uploaded before charts were kept as read
        stored.parsed = chart_to_json(read_chart(data=bytes(stored.data), filename=stored.filename))
        stored.save(update_fields=["parsed"])
    chart = chart_from_json(stored.parsed)
    if not chart.is_valid:
        return render(
            request,
            "gensidig/imports/errors.html",
            {"organisation": organisation, "errors": chart.errors, "filename": stored.filename},
            status=400,
        )
    refused = None
    if request.method == "POST":
        # The number HR confirmed, if they ticked the box; 0 when they did not.
        raw = request.POST.get("confirm_leaving", "")
        # isdigit() alone admits digits int() refuses ("²"); only ASCII digits are a number here.
        confirmed = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else 0
        try:
            result = apply_import(organisation_slug=organisation.slug, chart=chart, leaving_confirmed=confirmed)
        except LeavingNotConfirmed as unconfirmed:
            refused = unconfirmed
        except ChartRejected as rejected:
            return render(
                request,
                "gensidig/imports/errors.html",
                {"organisation": organisation, "errors": rejected.errors, "filename": stored.filename},
                status=400,
            )
        else:
            stored.delete()
            plan = result.plan
            record(
                AuditAction.CHART_IMPORTED,
                request=request,
                organisation=organisation,
                target=stored.filename,
                detail={"new": len(plan.new), "changed": len(plan.changed), "left": len(plan.leaving)},
            )
            messages.success(
                request,
                _(
                    "The org chart is imported: %(new)d new, %(changed)d changed, %(leaving)d left; %(teams)d teams formed."
                )
                % {
                    "new": len(plan.new),
                    "changed": len(plan.changed),
                    "leaving": len(plan.leaving),
                    "teams": len(plan.teams_formed),
                },
            )
            return redirect("gensidig:org-teams", slug=slug)
    plan = plan_import(organisation=organisation, chart=chart)
    return render(
        request,
        "gensidig/imports/preview.html",
        {
            "organisation": organisation,
            "plan": plan,
            "filename": stored.filename,
            "limit": PREVIEW_ROWS,
            "people_in_file": len(chart.rows),
            "refused": refused,
        },
        status=400 if refused else 200,
    )
