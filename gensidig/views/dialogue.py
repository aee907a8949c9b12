"""From the report to the conversation: the meeting guide, meeting mode, agreements, sharing."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from gensidig.forms.dialogue import AgreementForm, AgreementStatusForm, GuideForm
from gensidig.models import Agreement, AgreementStatus, Person, Round
from gensidig.services import agreements as agreement_service
from gensidig.services.guide import GuideRejected, build_guide, choose
from gensidig.services.report_charts import needs_series, theme_needs_chart
from gensidig.services.reports import ReportGone
from gensidig.services.results.trends import previous_round
from gensidig.services.survey.instruments import framework_for

from . import exports
from . import report as report_views
from .scoping import get_round_for_user


@login_required
@require_http_methods(["GET", "POST"])
def guide(request, public_id: str):
    round_ = report_views.chief_round(request, public_id)
    framework = framework_for(round_.instrument, translation.get_language())
    form = None
    if request.method == "POST":
        form = GuideForm(request.POST, themes=framework.themes)
        if form.is_valid():
            try:
                choose(round_=round_, format=form.cleaned_data["format"], focus_theme_keys=form.cleaned_data["themes"])
            except GuideRejected as error:
                form.add_error("themes", str(error))
            else:
                messages.success(request, _("The guide is updated."))
                return redirect("gensidig:guide", public_id=public_id)
    try:
        built = build_guide(round_=round_, language=translation.get_language())
    except ReportGone:
        return report_views.gone(request, round_)
    if form is None:
        # The guide already read the chief's choices: the form starts from them.
        chosen = [t.theme.key for t in built.themes] if built.chosen_by_chief else []
        form = GuideForm(themes=framework.themes, initial={"format": built.format, "themes": chosen})
    return render(
        request,
        "gensidig/guide/guide.html",
        {
            "round": round_,
            "guide": built,
            "form": form,
            "charts": {t.report.key: theme_needs_chart(t.report) for t in built.themes},
            "needs_series": needs_series(),
            "audience": report_views.CHIEF,
            "trend": built.trend,
            "exports": exports.export_links(exports.GUIDE),
        },
        status=400 if form.errors else 200,
    )


@login_required
def present(request, public_id: str, step: int = 1):
    """Meeting mode: one step of the agenda per screen, in large type, for a projector."""
    round_ = report_views.chief_round(request, public_id)
    try:
        built = build_guide(round_=round_, language=translation.get_language())
    except ReportGone:
        return report_views.gone(request, round_)
    if not 1 <= step <= len(built.steps):
        raise Http404
    current = built.steps[step - 1]
    return render(
        request,
        "gensidig/guide/present.html",
        {
            "round": round_,
            "guide": built,
            "step": current,
            "number": step,
            "total": len(built.steps),
            "chart": theme_needs_chart(current.theme.report) if current.theme else None,
            "needs_series": needs_series(),
            # On the projector the whole team reads it: the chief is "the chief", not "you".
            "audience": report_views.TEAM,
            "trend": built.trend,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def agreements(request, public_id: str):
    """The agreements of a round, and the form to write one down about a chosen theme."""
    round_ = report_views.chief_round(request, public_id)
    framework = framework_for(round_.instrument, translation.get_language())
    theme_key = request.POST.get("theme") or request.GET.get("theme", "")
    chosen = next((theme for theme in framework.themes if theme.key == theme_key), None)
    previous = previous_round(round_)
    form = AgreementForm(
        request.POST or None, framework=framework, leaders=agreement_service.leaders_of(round_), theme_key=theme_key
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = Person.objects.filter(pk=data["leader"]).first() if data["leader"] else None
        try:
            agreement_service.record_agreement(
                round_=round_,
                theme_key=data["theme"],
                item_keys=data["items"],
                text=data["text"],
                owner=data["owner"],
                owner_person=person,
                due_on=data["due_on"],
            )
        except agreement_service.AgreementRejected as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The agreement is written down."))
            return redirect(reverse("gensidig:agreements", args=[public_id]) + f"#agreements-{data['theme']}")
    return render(
        request,
        "gensidig/guide/agreements.html",
        {
            "round": round_,
            "form": form,
            "chosen": chosen,
            "framework": framework,
            "by_theme": agreement_service.agreements_by_theme(round_),
            "earlier": agreement_service.earlier_agreements(round_, previous=previous) if previous else {},
            "previous": previous,
            "status_choices": AgreementStatus.choices,
        },
        status=400 if form.errors else 200,
    )


def _team_agreement(request, public_id: str, agreement_id: str) -> tuple[Round, Agreement]:
    """An agreement of the chief's team: this round's, or an earlier round's to follow up on."""
    round_ = get_round_for_user(request, public_id)
    agreement = Agreement.objects.filter(public_id=agreement_id, round__team=round_.team).first()
    if agreement is None:
        raise Http404
    return round_, agreement


@login_required
@require_POST
def agreement_status(request, public_id: str, agreement_id: str):
    _round, agreement = _team_agreement(request, public_id, agreement_id)
    form = AgreementStatusForm(request.POST)
    if form.is_valid():
        agreement_service.update_status(agreement=agreement, status=form.cleaned_data["status"])
        messages.success(request, _("The status is updated."))
    else:
        messages.error(request, _("Choose one of the statuses shown."))
    return redirect(reverse("gensidig:agreements", args=[public_id]) + f"#agreements-{agreement.theme_key}")


@login_required
@require_POST
def agreement_delete(request, public_id: str, agreement_id: str):
    """Delete an agreement written down by mistake; earlier rounds' agreements are history and stay."""
    round_, agreement = _team_agreement(request, public_id, agreement_id)
    if agreement.round_id != round_.pk:
        raise Http404
    agreement.delete()
    messages.success(request, _("The agreement is deleted."))
    return redirect(reverse("gensidig:agreements", args=[public_id]) + f"#agreements-{agreement.theme_key}")


@login_required
@require_POST
def share(request, public_id: str):
    """Share the report (the leaders' figures and the chief's own answers) and the agreements."""
    round_ = report_views.chief_round(request, public_id)
    if request.POST.get("share") == "no":
        Round.objects.filter(pk=round_.pk).update(shared_on=None)
        messages.success(request, _("The report is no longer shared with the team."))
    else:
        Round.objects.filter(pk=round_.pk).update(shared_on=timezone.localdate())
        messages.success(request, _("The report and the agreements are shared with the team's leaders."))
    return redirect("gensidig:report", public_id=public_id)
