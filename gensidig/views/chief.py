"""The chief's own pages: their teams and rounds."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gensidig.forms.own_round import ExtendForm
from gensidig.models import AuditAction, Campaign, CampaignStatus, ReminderStatus, Round
from gensidig.models.choices import Role
from gensidig.services.access import joined_teams, shared_rounds
from gensidig.services.mail import outbox
from gensidig.services.survey.closing import TallyError, close_due_rounds, close_round
from gensidig.services.survey.own_round import campaign_in_the_way

from .auditing import record
from .scoping import get_round_for_user, teams_for_user


def with_answer_counts(rounds):
    # Counts only: nobody, the chief included, can see who has answered (rule 5).
    return rounds.annotate(
        leaders_answered=Count("invitations", filter=Q(invitations__role=Role.LEADER, invitations__used=True)),
        chief_answered=Count("invitations", filter=Q(invitations__role=Role.CHIEF, invitations__used=True)),
    )


@login_required
def dashboard(request):
    teams = teams_for_user(request.user).select_related("organisation").order_by("name")
    # The chief's rounds past their closing time are closed here too, so they never wait for
    # the scheduled `gensidig close-round --due` to see their report.
    close_due_rounds(
        among=Round.objects.filter(team__in=teams), on_error=lambda _round, error: messages.error(request, str(error))
    )
    rounds = with_answer_counts(Round.objects.filter(team__in=teams).select_related("team")).order_by("-number")
    by_team = {team.pk: [] for team in teams}
    for round_ in rounds:
        by_team[round_.team_id].append(round_)
    # A team with no open round can start one of its own, unless a campaign gives it its round.
    in_campaign = {
        team.pk: campaign_in_the_way(team)
        for team in teams
        if team.active and not any(round_.is_open for round_ in by_team[team.pk])
    }
    # Roll-ups: closed campaigns in which the user leads a team with teams below it.
    led_with_children = teams.filter(children__isnull=False).distinct()
    rollups = Campaign.objects.filter(status=CampaignStatus.CLOSED, rounds__team__in=led_with_children).distinct()
    return render(
        request,
        "gensidig/chief/dashboard.html",
        {
            # (team, its rounds, the campaign that gives it its round, whether it can start one of its own)
            "teams": [
                (team, by_team[team.pk], in_campaign.get(team.pk), team.pk in in_campaign and not in_campaign[team.pk])
                for team in teams
            ],
            "joined": joined_teams(request.user).select_related("organisation", "chief").order_by("name"),
            "rollups": rollups.order_by("-closes_at"),
            "shared": shared_rounds(request.user).select_related("team__chief").order_by("-shared_on", "-number"),
        },
    )


@login_required
def round_detail(request, public_id: str):
    round_ = get_round_for_user(request, public_id)
    if round_.is_due_to_close():
        try:
            round_ = close_round(round_=round_)
        except TallyError as error:
            messages.error(request, str(error))
    return render_round(request, round_)


def render_round(request, round_, *, extend_form=None, status: int = 200):
    """The round page: counts only, and while a round of the chief's own runs, what they can do."""
    counted = with_answer_counts(Round.objects.filter(pk=round_.pk)).get()
    context = {"round": round_, "counted": counted}
    if round_.is_open and round_.campaign_id is None:
        mail = outbox.mail_status(rounds=[round_])
        context |= {
            "mail": mail,
            # The page shows how many answered; how many have not is the same number, no more.
            "not_answered": round_.leaders_invited - counted.leaders_answered,
            "reminder_pending": round_.reminder_batches.filter(manual=True, status=ReminderStatus.PENDING).exists(),
            "extend_form": extend_form or ExtendForm(round_=round_),
        }
    return render(request, "gensidig/chief/round.html", context, status=status)


@login_required
@require_POST
def round_close(request, public_id: str):
    round_ = get_round_for_user(request, public_id)
    if round_.campaign_id:
        # A campaign's rounds close together, with one suppression pattern for all of them.
        messages.error(request, _("This round is part of a campaign and closes with it."))
    elif round_.is_open:
        try:
            close_round(round_=round_)
        except TallyError as error:
            messages.error(request, str(error))
        else:
            record(AuditAction.ROUND_CLOSED, request=request, round_=round_)
            messages.success(request, _("The round is closed and the report is ready."))
    return redirect("gensidig:round", public_id=round_.public_id)
