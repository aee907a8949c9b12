"""Campaigns, for the organisation admin: create, edit, preview, launch, follow, remind, close."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from gensidig import tasks
from gensidig.forms.organisation import CampaignForm
from gensidig.models import AuditAction, Campaign, CampaignStatus, Round, Team
from gensidig.models.choices import Language
from gensidig.services import campaigns as campaign_service
from gensidig.services.jobs import soon
from gensidig.services.mail import outbox as mailing
from gensidig.services.mail.preview import previews
from gensidig.services.results.participation import live_participation
from gensidig.services.survey import closing

from .auditing import record
from .scoping import get_campaign_for_admin, get_organisation_for_admin

PARTICIPATION_PER_PAGE = 50


def _reminder_totals(mail) -> list[tuple[int, int, int, int | None]]:
    """(number, sent, failed, by hand) per reminder, summed over the campaign's rounds. Counts only.

    "By hand" is the reminder's place among those sent by hand (1 for the first), None for a
    scheduled one; the page names them apart, rather than "Reminder 101".
    """
    totals: dict[int, list[int]] = {}
    manual = set()
    # A batch keeps its counts when it is done; until then the page says a reminder is on its way.
    for reminder in (r for r in mail.reminders if r.done):
        sent_failed = totals.setdefault(reminder.number, [0, 0])
        sent_failed[0] += reminder.sent
        sent_failed[1] += reminder.failed
        if reminder.manual:
            manual.add(reminder.number)
    by_hand = {number: place for place, number in enumerate(sorted(manual), start=1)}
    return [(number, sent, failed, by_hand.get(number)) for number, (sent, failed) in sorted(totals.items())]


def _reminder_waiting(mail) -> bool:
    # That one is waiting says nothing about who has answered; the page says so and keeps looking.
    return any(r.manual and not r.done for r in mail.reminders)


@login_required
def campaign_list(request, slug: str):
    organisation = get_organisation_for_admin(request, slug)
    closing.close_due_campaigns_of(
        organisation=organisation, on_error=lambda _campaign, error: messages.error(request, str(error))
    )
    found = Campaign.objects.filter(organisation=organisation).select_related("root_team").order_by("-opens_on")
    return render(request, "gensidig/campaigns/list.html", {"organisation": organisation, "campaigns": found})


@login_required
@require_http_methods(["GET", "POST"])
def campaign_new(request, slug: str):
    organisation = get_organisation_for_admin(request, slug)
    form = CampaignForm(request.POST or None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        campaign = campaign_service.create_campaign(
            organisation=organisation,
            name=form.cleaned_data["name"],
            root_team=form.cleaned_data["branch"],
            opens_on=form.cleaned_data["opens_on"],
            closes_at=form.closes_at,
            created_by=request.user,
        )
        return redirect("gensidig:campaign", slug=slug, public_id=campaign.public_id)
    return render(
        request,
        "gensidig/campaigns/new.html",
        {"organisation": organisation, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def campaign_detail(request, slug: str, public_id: str):
    campaign = get_campaign_for_admin(request, slug, public_id)
    if campaign.status == CampaignStatus.OPEN and campaign.closes_at <= timezone.now():
        try:
            campaign = closing.close_campaign(campaign=campaign)
        except closing.TallyError as error:
            messages.error(request, str(error))
    context = {"organisation": campaign.organisation, "campaign": campaign}
    if campaign.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        teams = campaign_service.preview(
            organisation=campaign.organisation, root_team=campaign.root_team, k=campaign.anonymity_threshold
        )
        # A team with a round of its own open sits the campaign out; it is not offered as a choice.
        joining = [t for t in teams if t.leaders and not t.has_open_round]
        context |= {
            "teams": teams,
            "small_teams": [t for t in joining if t.small],
            "empty_teams": [t for t in teams if t.leaders == 0],
            "busy_teams": [t for t in teams if t.leaders and t.has_open_round],
            # One invitation per leader and one for each team's chief; a team without leaders gets no round.
            "invitations": sum(t.leaders + 1 for t in joining),
        }
    else:
        rounds = Round.objects.filter(campaign=campaign)
        mail = mailing.mail_status(campaign=campaign)
        # A page of the hierarchy at a time: at 20,000 people the whole of it is thousands of rows.
        participation = live_participation(
            campaign=campaign, page_number=request.GET.get("page", 1), per_page=PARTICIPATION_PER_PAGE
        )
        # A reminder goes to everyone who has not answered, so its count is a participation count:
        # shown only where the campaign's own count is (DESIGN.md 2.6).
        reminders_shown = participation.answered is not None
        context |= {
            "participation": participation,
            "mail": mail,
            "reminders": _reminder_totals(mail) if reminders_shown else [],
            "reminders_hidden": not reminders_shown and any(r.done for r in mail.reminders),
            "reminder_waiting": _reminder_waiting(mail),
            "round_count": rounds.count(),
            "left_out": campaign_service.left_out_teams(campaign=campaign),
        }
    return render(request, "gensidig/campaigns/detail.html", context)


@login_required
def campaign_progress(request, slug: str, public_id: str):
    """The sending progress, as a fragment the campaign page refreshes (htmx) while mail goes out."""
    campaign = get_campaign_for_admin(request, slug, public_id)
    mail = mailing.mail_status(campaign=campaign)
    waiting = _reminder_waiting(mail)
    response = render(
        request,
        "gensidig/campaigns/partials/progress.html",
        {"organisation": campaign.organisation, "campaign": campaign, "mail": mail, "reminder_waiting": waiting},
    )
    if request.GET.get("reminder") == "waiting" and not waiting:
        # The reminder has gone: the whole page again, which shows its count where it may be shown.
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def campaign_launch(request, slug: str, public_id: str):
    campaign = get_campaign_for_admin(request, slug, public_id)
    # ASCII digits only: isdigit() also admits "²", which int() refuses.
    excluded = {int(v) for v in request.POST.getlist("leave_out") if v.isascii() and v.isdigit()}
    try:
        rounds = campaign_service.launch_campaign(campaign=campaign, excluded_team_ids=excluded)
        soon(tasks.send_mail)  # the invitations, now rather than at the next minute
    except campaign_service.CampaignError as error:
        messages.error(request, str(error))
        return redirect("gensidig:campaign", slug=slug, public_id=public_id)
    record(
        AuditAction.CAMPAIGN_LAUNCHED,
        request=request,
        organisation=campaign.organisation,
        target=campaign.name,
        detail={"rounds": len(rounds)},
    )
    campaign.refresh_from_db()
    if campaign.status == CampaignStatus.SCHEDULED:
        messages.success(
            request,
            _("The campaign is scheduled and opens by itself on %(date)s.")
            % {"date": formats.date_format(campaign.opens_on)},
        )
    else:
        messages.success(
            request,
            ngettext(
                "The campaign is open: %(rounds)d round. The invitations are on their way.",
                "The campaign is open: %(rounds)d rounds. The invitations are on their way.",
                len(rounds),
            )
            % {"rounds": len(rounds)},
        )
    return redirect("gensidig:campaign", slug=slug, public_id=public_id)


@login_required
@require_POST
def campaign_close(request, slug: str, public_id: str):
    campaign = get_campaign_for_admin(request, slug, public_id)
    try:
        closing.close_campaign(campaign=campaign)
    except (campaign_service.CampaignError, closing.TallyError) as error:
        messages.error(request, str(error))
    else:
        record(AuditAction.CAMPAIGN_CLOSED, request=request, organisation=campaign.organisation, target=campaign.name)
        messages.success(request, _("The campaign is closed, and its reports and roll-ups are ready."))
    return redirect("gensidig:campaign", slug=slug, public_id=public_id)


@login_required
@require_POST
def campaign_resend(request, slug: str, public_id: str):
    """Queue again the invitations that failed or were interrupted; they get new links."""
    campaign = get_campaign_for_admin(request, slug, public_id)
    rounds = Round.objects.filter(campaign=campaign, status="open")
    queued = mailing.resend_failed(rounds=rounds) + mailing.resend_interrupted(rounds=rounds)
    soon(tasks.send_mail)
    record(
        AuditAction.CAMPAIGN_CHANGED,
        request=request,
        organisation=campaign.organisation,
        target=campaign.name,
        detail={"invitations sent again": queued},
    )
    messages.success(
        request,
        ngettext("%(count)d invitation will be sent again.", "%(count)d invitations will be sent again.", queued)
        % {"count": queued},
    )
    return redirect("gensidig:campaign", slug=slug, public_id=public_id)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request, slug: str, public_id: str):
    """Change a draft's name, branch and dates: the new campaign's form, filled in."""
    campaign = get_campaign_for_admin(request, slug, public_id)
    organisation = campaign.organisation
    if campaign.status != CampaignStatus.DRAFT:
        messages.error(request, _not_a_draft(campaign))
        return redirect("gensidig:campaign", slug=slug, public_id=public_id)
    initial = {
        "name": campaign.name,
        "branch": campaign.root_team_id,
        "opens_on": campaign.opens_on,
        "closes_on": timezone.localdate(campaign.closes_at),
    }
    form = CampaignForm(request.POST or None, organisation=organisation, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            campaign_service.edit_campaign(
                campaign=campaign,
                name=form.cleaned_data["name"],
                root_team=form.cleaned_data["branch"],
                opens_on=form.cleaned_data["opens_on"],
                closes_at=form.closes_at,
            )
        except campaign_service.CampaignError as error:
            form.add_error(None, str(error))
        else:
            record(
                AuditAction.CAMPAIGN_CHANGED,
                request=request,
                organisation=organisation,
                target=campaign.name,
                detail={"change": "edited"},
            )
            messages.success(request, _("The campaign is saved."))
            return redirect("gensidig:campaign", slug=slug, public_id=public_id)
    return render(
        request,
        "gensidig/campaigns/edit.html",
        {"organisation": organisation, "campaign": campaign, "form": form},
        status=400 if form.errors else 200,
    )


def _not_a_draft(campaign) -> str:
    if campaign.status == CampaignStatus.SCHEDULED:
        return _("The campaign is scheduled. Take it back to draft to change it.")
    return _("The campaign has opened, so it can no longer be changed.")


@login_required
@require_http_methods(["GET", "POST"])
def campaign_delete(request, slug: str, public_id: str):
    """Ask, then delete a campaign that has sent nothing (a draft, or a scheduled one)."""
    campaign = get_campaign_for_admin(request, slug, public_id)
    if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        messages.error(
            request,
            _("The campaign has opened, so it cannot be deleted: its rounds belong to the teams that took part."),
        )
        return redirect("gensidig:campaign", slug=slug, public_id=public_id)
    if request.method == "POST":
        try:
            campaign_service.delete_campaign(campaign=campaign)
        except campaign_service.CampaignError as error:  # it opened in the meantime
            messages.error(request, str(error))
            return redirect("gensidig:campaign", slug=slug, public_id=public_id)
        record(
            AuditAction.DELETED,
            request=request,
            organisation=campaign.organisation,
            target=campaign.name,
            detail={"what": "campaign"},
        )
        messages.success(request, _("The campaign “%(name)s” is deleted.") % {"name": campaign.name})
        return redirect("gensidig:campaigns", slug=slug)
    return render(
        request, "gensidig/campaigns/delete.html", {"organisation": campaign.organisation, "campaign": campaign}
    )


@login_required
@require_POST
def campaign_withdraw(request, slug: str, public_id: str):
    """Take a scheduled campaign back to draft, so that it can be changed before it opens."""
    campaign = get_campaign_for_admin(request, slug, public_id)
    try:
        campaign_service.withdraw_campaign(campaign=campaign)
    except campaign_service.CampaignError as error:
        messages.error(request, str(error))
    else:
        record(
            AuditAction.CAMPAIGN_CHANGED,
            request=request,
            organisation=campaign.organisation,
            target=campaign.name,
            detail={"change": "back to draft"},
        )
        messages.success(request, _("The campaign is a draft again: it will not open until you launch it."))
    return redirect("gensidig:campaign", slug=slug, public_id=public_id)


@login_required
@require_POST
def campaign_remind(request, slug: str, public_id: str):
    """Queue a reminder now for everyone in the campaign who has not answered (never named)."""
    campaign = get_campaign_for_admin(request, slug, public_id)
    try:
        campaign_service.send_reminder_now(campaign=campaign)
        soon(tasks.send_mail)
    except campaign_service.CampaignError as error:
        messages.error(request, str(error))
    else:
        record(AuditAction.REMINDER_SENT, request=request, organisation=campaign.organisation, target=campaign.name)
        messages.success(
            request,
            _(
                "The reminder is on its way to everyone who has not answered yet, each with a new link. "
                "Nobody is named, here or anywhere."
            ),
        )
    return redirect("gensidig:campaign", slug=slug, public_id=public_id)


@login_required
def campaign_mail_preview(request, slug: str, public_id: str):
    """The invitation and the reminder as the campaign will send them, in each of the organisation's languages."""
    campaign = get_campaign_for_admin(request, slug, public_id)
    organisation = campaign.organisation
    # Each team's e-mails carry its own name; the branch's top team (or the organisation's) stands in for them.
    example = campaign.root_team or (
        Team.objects.filter(organisation=organisation, active=True, parent__isnull=True).order_by("name").first()
    )
    found = previews(
        organisation=organisation, team=example, closes_at=campaign.closes_at, k=campaign.anonymity_threshold
    )
    languages = []
    for preview in found:
        if not languages or languages[-1][0] != preview.language:
            languages.append((preview.language, Language(preview.language).label, []))
        languages[-1][2].append(preview)
    return render(
        request,
        "gensidig/campaigns/mail_preview.html",
        {"organisation": organisation, "campaign": campaign, "example": example, "languages": languages},
    )
