"""From the report to the conversation: the meeting guide, meeting mode, agreements, sharing."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from gensidig import tasks
from gensidig.forms.dialogue import (
    AgreementEditForm,
    AgreementForm,
    AgreementStatusForm,
    GuideForm,
    MeetingAgreementForm,
)
from gensidig.models import Agreement, AgreementStatus, AuditAction, Person, Round
from gensidig.services import agreements as agreement_service
from gensidig.services.guide import GuideRejected, build_guide, choose
from gensidig.services.jobs import soon
from gensidig.services.mail import shared_report
from gensidig.services.report_charts import needs_series, theme_needs_chart
from gensidig.services.reports import ReportGone
from gensidig.services.results.trends import previous_round
from gensidig.services.survey.instruments import framework_for

from . import report as report_views
from .audiences import GUIDE, export_links
from .auditing import audited, record
from .scoping import get_round_for_user


@login_required
@require_http_methods(["GET", "POST"])
@audited(AuditAction.GUIDE_VIEWED)
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
            "exports": export_links(GUIDE),
        },
        status=400 if form.errors else 200,
    )


@login_required
@audited(AuditAction.GUIDE_VIEWED, mode="meeting", only_if=lambda kwargs: kwargs.get("step", 1) == 1)
def present(request, public_id: str, step: int = 1):
    """Meeting mode: one step of the agenda per screen, in large type, for a projector."""
    round_ = report_views.chief_round(request, public_id)
    try:
        built = build_guide(round_=round_, language=translation.get_language())
    except ReportGone:
        return report_views.gone(request, round_)
    if not 1 <= step <= len(built.steps):
        raise Http404
    return _present_page(request, round_, built, step)


@login_required
@require_POST
def present_agreement(request, public_id: str, step: int):
    """Record an agreement from meeting mode's agreements step, so the chief stays on the projector.

    With htmx the answer is the step's list and a fresh form, swapped in place (full screen stays on);
    without JavaScript it is a redirect back to the same step, where the list shows the agreement.
    """
    round_ = report_views.chief_round(request, public_id)
    try:
        built = build_guide(round_=round_, language=translation.get_language())
    except ReportGone:
        return report_views.gone(request, round_)
    if not 1 <= step <= len(built.steps) or built.steps[step - 1].kind != "agreements":
        raise Http404
    form = _meeting_form(round_, built, request.POST)
    agreement = _record(round_, form) if form.is_valid() else None
    in_place = request.headers.get("HX-Request") == "true"
    if agreement is None:
        if in_place:
            return _present_fragment(request, round_, built, step, form=form, status=400)
        return _present_page(request, round_, built, step, form=form, status=400)
    # The guide was built before the agreement existed; it joins its theme's list (agreements go by pk).
    for item in built.themes:
        if item.theme.key == agreement.theme_key:
            item.agreed.append(agreement)
    message = _("The agreement is written down.")
    if in_place:
        return _present_fragment(
            request, round_, built, step, form=_meeting_form(round_, built), recorded=message, status=200
        )
    record(AuditAction.AGREEMENT_CHANGED, request=request, round_=round_, detail={"change": "recorded in meeting mode"})
    messages.success(request, message)
    return redirect(reverse("gensidig:guide-present-step", args=[public_id, step]) + "#agreement-recorded")


def _meeting_form(round_: Round, built, data=None) -> MeetingAgreementForm:
    return MeetingAgreementForm(
        data,
        framework=built.report.framework,
        leaders=agreement_service.leaders_of(round_),
        guide_themes=[item.theme for item in built.themes],
    )


def _present_context(round_: Round, built, step: int, form) -> dict:
    current = built.steps[step - 1]
    if form is None and current.kind == "agreements":
        form = _meeting_form(round_, built)
    return {
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
        "form": form,
    }


def _present_page(request, round_: Round, built, step: int, *, form=None, status: int = 200):
    return render(request, "gensidig/guide/present.html", _present_context(round_, built, step, form), status=status)


def _present_fragment(request, round_: Round, built, step: int, *, form, status: int, recorded: str = ""):
    """The agreements step's list and form, and the text for its status line (htmx swaps both)."""
    context = {**_present_context(round_, built, step, form), "recorded": recorded, "in_place": True}
    return render(request, "gensidig/guide/present_agreements.html", context, status=status)


def _record(round_: Round, form) -> Agreement | None:
    """Record the agreement a valid form describes; None, with the form's error, if the service refuses."""
    data = form.cleaned_data
    person = Person.objects.filter(pk=data["leader"]).first() if data["leader"] else None
    try:
        return agreement_service.record_agreement(
            round_=round_,
            theme_key=data["theme"],
            item_keys=data.get("items", []),
            text=data["text"],
            owner=data["owner"],
            owner_person=person,
            due_on=data["due_on"],
        )
    except agreement_service.AgreementRejected as error:
        form.add_error(None, str(error))
        return None


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
    if request.method == "POST" and form.is_valid() and _record(round_, form):
        record(AuditAction.AGREEMENT_CHANGED, request=request, round_=round_, detail={"change": "recorded"})
        messages.success(request, _("The agreement is written down."))
        return redirect(reverse("gensidig:agreements", args=[public_id]) + f"#agreements-{form.cleaned_data['theme']}")
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
        record(
            AuditAction.AGREEMENT_CHANGED,
            request=request,
            round_=agreement.round,
            detail={"change": "status", "status": agreement.status},
        )
        messages.success(request, _("The status is updated."))
    else:
        messages.error(request, _("Choose one of the statuses shown."))
    return redirect(reverse("gensidig:agreements", args=[public_id]) + f"#agreements-{agreement.theme_key}")


@login_required
@require_http_methods(["GET", "POST"])
def agreement_edit(request, public_id: str, agreement_id: str):
    """Change what an agreement of this round says, who does it and by when; its theme stays."""
    round_ = report_views.chief_round(request, public_id)
    agreement = Agreement.objects.filter(public_id=agreement_id, round=round_).select_related("round").first()
    if agreement is None:
        # Earlier rounds' agreements are history: their status moves on, their words stay.
        raise Http404
    framework = framework_for(round_.instrument, translation.get_language())
    form = AgreementEditForm(
        request.POST or None, agreement=agreement, framework=framework, leaders=agreement_service.leaders_of(round_)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = Person.objects.filter(pk=data["leader"]).first() if data["leader"] else None
        try:
            agreement_service.edit_agreement(
                agreement=agreement,
                item_keys=data["items"],
                text=data["text"],
                owner=data["owner"],
                owner_person=person,
                due_on=data["due_on"],
            )
        except agreement_service.AgreementRejected as error:
            form.add_error(None, str(error))
        else:
            record(AuditAction.AGREEMENT_CHANGED, request=request, round_=round_, detail={"change": "edited"})
            messages.success(request, _("The agreement is updated."))
            return redirect(reverse("gensidig:agreements", args=[public_id]) + f"#agreements-{agreement.theme_key}")
    theme = next((theme for theme in framework.themes if theme.key == agreement.theme_key), None)
    return render(
        request,
        "gensidig/guide/agreement_edit.html",
        {"round": round_, "agreement": agreement, "theme": theme, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def agreement_delete(request, public_id: str, agreement_id: str):
    """Delete an agreement written down by mistake; earlier rounds' agreements are history and stay."""
    round_, agreement = _team_agreement(request, public_id, agreement_id)
    if agreement.round_id != round_.pk:
        raise Http404
    agreement_service.delete_agreement(agreement=agreement)
    record(AuditAction.DELETED, request=request, round_=round_, detail={"what": "agreement"})
    messages.success(request, _("The agreement is deleted."))
    return redirect(reverse("gensidig:agreements", args=[public_id]) + f"#agreements-{agreement.theme_key}")


@login_required
@require_POST
def share(request, public_id: str):
    """Share the report (the leaders' figures and the chief's own answers) and the agreements."""
    round_ = report_views.chief_round(request, public_id)
    if request.POST.get("share") == "no":
        shared_report.stop_sharing(round_=round_)
        record(AuditAction.UNSHARED, request=request, round_=round_)
        messages.success(request, _("The report is no longer shared with the team."))
    else:
        # The leaders are told by e-mail, sent by the sender: a mail server that is down never stops this.
        told = shared_report.share_report(round_=round_)
        soon(tasks.send_mail)
        message = _("The report and the agreements are shared with the team's leaders.")
        if told:
            message += " " + ngettext(
                "%(count)d leader gets an e-mail with a link to the report.",
                "%(count)d leaders get an e-mail with a link to the report.",
                told,
            ) % {"count": told}
        record(AuditAction.SHARED, request=request, round_=round_, detail={"leaders told": told})
        messages.success(request, message)
    return redirect("gensidig:report", public_id=public_id)
