"""Campaigns, for the organisation admin: create, preview, launch, follow, close."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from gensidig.forms.organisation import CampaignForm
from gensidig.models import Campaign, CampaignStatus, Round
from gensidig.services import campaigns as campaign_service
from gensidig.services.mail import outbox as mailing
from gensidig.services.results.participation import live_participation
from gensidig.services.survey import closing

from .scoping import get_campaign_for_admin, get_organisation_for_admin


def _reminder_totals(mail) -> list[tuple[int, int, int]]:
    """(number, sent, failed) per reminder, summed over the campaign's rounds. Counts only."""
    totals: dict[int, list[int]] = {}
    for reminder in mail.reminders:
        sent_failed = totals.setdefault(reminder.number, [0, 0])
        sent_failed[0] += reminder.sent
        sent_failed[1] += reminder.failed
    return [(number, sent, failed) for number, (sent, failed) in sorted(totals.items())]


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
        context |= {
            "teams": teams,
            "small_teams": [t for t in teams if t.small and t.leaders > 0],
            "empty_teams": [t for t in teams if t.leaders == 0],
            # One invitation per leader and one for each team's chief; a team without leaders gets no round.
            "invitations": sum(t.leaders + 1 for t in teams if t.leaders),
        }
    else:
        rounds = Round.objects.filter(campaign=campaign)
        mail = mailing.mail_status(rounds=rounds)
        participation = live_participation(campaign=campaign)
        # A reminder goes to everyone who has not answered, so its count is a participation count:
        # shown only where the campaign's own count is (DESIGN.md 2.6).
        reminders_shown = participation.answered is not None
        context |= {
            "participation": participation,
            "mail": mail,
            "reminders": _reminder_totals(mail) if reminders_shown else [],
            "reminders_hidden": not reminders_shown and bool(mail.reminders),
            "round_count": rounds.count(),
        }
    return render(request, "gensidig/campaigns/detail.html", context)


@login_required
def campaign_progress(request, slug: str, public_id: str):
    """The sending progress, as a fragment the campaign page refreshes (htmx) while mail goes out."""
    campaign = get_campaign_for_admin(request, slug, public_id)
    mail = mailing.mail_status(rounds=Round.objects.filter(campaign=campaign))
    return render(
        request,
        "gensidig/campaigns/partials/progress.html",
        {"organisation": campaign.organisation, "campaign": campaign, "mail": mail},
    )


@login_required
@require_POST
def campaign_launch(request, slug: str, public_id: str):
    campaign = get_campaign_for_admin(request, slug, public_id)
    excluded = {int(v) for v in request.POST.getlist("leave_out") if v.isdigit()}
    try:
        rounds = campaign_service.launch_campaign(campaign=campaign, excluded_team_ids=excluded)
    except campaign_service.CampaignError as error:
        messages.error(request, str(error))
        return redirect("gensidig:campaign", slug=slug, public_id=public_id)
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
        messages.success(request, _("The campaign is closed, and its reports and roll-ups are ready."))
    return redirect("gensidig:campaign", slug=slug, public_id=public_id)


@login_required
@require_POST
def campaign_resend(request, slug: str, public_id: str):
    """Queue again the invitations that failed or were interrupted; they get new links."""
    campaign = get_campaign_for_admin(request, slug, public_id)
    rounds = Round.objects.filter(campaign=campaign, status="open")
    queued = mailing.resend_failed(rounds=rounds) + mailing.resend_interrupted(rounds=rounds)
    messages.success(
        request,
        ngettext("%(count)d invitation will be sent again.", "%(count)d invitations will be sent again.", queued)
        % {"count": queued},
    )
    return redirect("gensidig:campaign", slug=slug, public_id=public_id)
