"""HR's view of their organisation's audit trail: who did what, when; and its export."""

import csv
import io

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from gensidig.models import AuditAction
from gensidig.services import audit_trail
from gensidig.services.organisation.people_export import csv_cell

from .scoping import get_organisation_for_admin

EVENTS_PER_PAGE = 100


def _filters(request):
    action = request.GET.get("action", "")
    action = action if action in AuditAction.values else ""
    try:
        since = parse_date(request.GET.get("since", "")[:10])
    except ValueError:  # the shape of a date and no such day ("2024-02-30"): no filter, as for any other text
        since = None
    return action, since


@login_required
def trail(request, slug: str):
    organisation = get_organisation_for_admin(request, slug)
    action, since = _filters(request)
    events = audit_trail.trail_for(organisation, action=action, since=since)
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "gensidig/organisation/audit.html",
        {
            "organisation": organisation,
            "page": page,
            "actions": AuditAction.choices,
            "action": action,
            "since": since,
            "retention_days": audit_trail.retention_days(),
        },
    )


@login_required
def trail_csv(request, slug: str):
    organisation = get_organisation_for_admin(request, slug)
    action, since = _filters(request)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";" if formats.get_format("DECIMAL_SEPARATOR") == "," else ",")
    writer.writerow([_("When"), _("Who"), _("From address"), _("What"), _("Concerning"), _("Details")])
    for event in audit_trail.trail_for(organisation, action=action, since=since).iterator(chunk_size=2000):
        writer.writerow(
            [
                timezone.localtime(event.at).isoformat(timespec="seconds"),
                csv_cell(event.actor_email),
                event.client_address or "",
                event.get_action_display(),
                csv_cell(event.target),
                csv_cell(", ".join(f"{key}: {value}" for key, value in event.detail.items())),
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{organisation.slug}-{timezone.localdate()}.csv"'
    audit_trail.record(AuditAction.EXPORTED, request=request, organisation=organisation, target=_("The audit trail"))
    return response
