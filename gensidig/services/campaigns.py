"""Campaigns: one round for every management team of an organisation, or of one branch of it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gensidig.models import Campaign, CampaignStatus, Organisation, ReminderBatch, ReminderStatus, Round, Team
from gensidig.models.choices import RoundStatus
from gensidig.services.access import descendants
from gensidig.services.results.hierarchy import chains_upwards
from gensidig.services.survey.instruments import current_instrument
from gensidig.services.survey.own_round import FIRST_MANUAL_REMINDER
from gensidig.services.survey.rounds import RoundError, open_rounds


class CampaignError(ValueError):
    """The campaign cannot be created, launched or closed as asked; the message says why."""


@dataclass(frozen=True)
class TeamInCampaign:
    team: Team
    leaders: int
    k: int
    # The closing time of a round the team already has open (its chief's own, or another
    # campaign's): a team has one open round at a time, so the launch leaves it out.
    open_round_closes_at: datetime.datetime | None = None

    @property
    def small(self) -> bool:
        """Fewer leaders than k: their figures can never be shown for the team on its own."""
        return self.leaders < self.k

    @property
    def has_open_round(self) -> bool:
        return self.open_round_closes_at is not None


@dataclass(frozen=True)
class LeftOut:
    """A team of the campaign's branch that got no round in it, and why (one of the REASONS)."""

    team: Team
    reason: str
    # For OWN_ROUND: when the round the team had open was to close.
    closes_at: datetime.datetime | None = None

    OWN_ROUND = "own-round"
    NO_LEADERS = "no-leaders"
    SMALL = "small"


def branch_teams(*, organisation: Organisation, root_team: Team | None) -> list[Team]:
    """The active teams of the whole organisation, or of the branch from root_team down."""
    teams = Team.objects.filter(organisation=organisation, active=True).select_related("chief", "parent")
    if root_team is not None:
        below = descendants([root_team], organisation=organisation)[root_team.pk]
        teams = teams.filter(pk__in=[root_team.pk, *below])
    return list(teams.order_by("name"))


def preview(*, organisation: Organisation, root_team: Team | None, k: int | None = None) -> list[TeamInCampaign]:
    """Every team a campaign would cover, with its number of leaders and whether it is under k."""
    k = k or organisation.anonymity_threshold
    teams = branch_teams(organisation=organisation, root_team=root_team)
    counts = dict(
        Team.objects.filter(pk__in=[t.pk for t in teams])
        .annotate(n=Count("memberships", filter=Q(memberships__person__active=True)))
        .values_list("pk", "n")
    )
    busy = _open_rounds_of(teams)
    return [
        TeamInCampaign(team=team, leaders=counts.get(team.pk, 0), k=k, open_round_closes_at=busy.get(team.pk))
        for team in teams
    ]


def _open_rounds_of(teams: list[Team]) -> dict[int, datetime.datetime]:
    """Team id -> closing time of the round it has open now, for the teams that have one."""
    return dict(
        Round.objects.filter(team__in=[t.pk for t in teams], status=RoundStatus.OPEN).values_list(
            "team_id", "closes_at"
        )
    )


def _check(
    *, organisation: Organisation, root_team: Team | None, opens_on: datetime.date, closes_at: datetime.datetime
) -> None:
    if root_team is not None and root_team.organisation_id != organisation.pk:
        raise CampaignError(_("The branch must be a team of the same organisation."))
    if closes_at.date() < opens_on:
        raise CampaignError(_("The campaign must close after it opens."))


def create_campaign(
    *,
    organisation: Organisation,
    name: str,
    root_team: Team | None,
    opens_on: datetime.date,
    closes_at: datetime.datetime,
    created_by=None,
) -> Campaign:
    """A campaign in draft: nothing is sent and no round is opened until it is launched."""
    _check(organisation=organisation, root_team=root_team, opens_on=opens_on, closes_at=closes_at)
    return Campaign.objects.create(
        organisation=organisation,
        name=name,
        root_team=root_team,
        opens_on=opens_on,
        closes_at=closes_at,
        anonymity_threshold=organisation.anonymity_threshold,
        created_by=created_by,
    )


def edit_campaign(
    *,
    campaign: Campaign,
    name: str,
    root_team: Team | None,
    opens_on: datetime.date,
    closes_at: datetime.datetime,
) -> Campaign:
    """Change a draft's name, branch and dates, with the same checks as when it was made.

    Only a draft: a scheduled campaign is taken back to draft first (`withdraw_campaign`), and one
    that has opened has rounds whose leaders were told its dates.
    """
    _check(organisation=campaign.organisation, root_team=root_team, opens_on=opens_on, closes_at=closes_at)
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        _must_be_draft(locked)
        locked.name = name
        locked.root_team = root_team
        locked.opens_on = opens_on
        locked.closes_at = closes_at
        locked.save(update_fields=["name", "root_team", "opens_on", "closes_at"])
    return locked


def _must_be_draft(campaign: Campaign) -> None:
    if campaign.status == CampaignStatus.SCHEDULED:
        raise CampaignError(_("The campaign is scheduled. Take it back to draft to change it."))
    if campaign.status != CampaignStatus.DRAFT:
        raise CampaignError(_("The campaign has opened, so it can no longer be changed."))


def withdraw_campaign(*, campaign: Campaign) -> Campaign:
    """Take a scheduled campaign back to draft, before its opening day: it has sent nothing yet."""
    with transaction.atomic():
        # The sender opens scheduled campaigns under the same lock, so the two never cross.
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status != CampaignStatus.SCHEDULED:
            raise CampaignError(_("Only a scheduled campaign can be taken back to draft."))
        locked.status = CampaignStatus.DRAFT
        locked.save(update_fields=["status"])
        # The teams left out are chosen again at the next launch, against the chart as it is then.
        locked.excluded_teams.clear()
    return locked


def delete_campaign(*, campaign: Campaign) -> None:
    """Delete a campaign that has sent nothing: a draft, or a scheduled one before its opening day."""
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
            raise CampaignError(
                _("The campaign has opened, so it cannot be deleted: its rounds belong to the teams that took part.")
            )
        locked.delete()


def send_reminder_now(*, campaign: Campaign, now: datetime.datetime | None = None) -> list[ReminderBatch]:
    """A reminder now to everyone in the campaign who has not answered: one batch per open round.

    All the batches carry one number, the campaign's next one sent by hand (from 101, apart from
    the scheduled reminders, which still go out as planned), so the campaign page adds them up as
    one reminder. Counts only: nobody is named (services.mail.reminders). Refused while an earlier
    reminder sent by hand is still waiting for the sender.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status != CampaignStatus.OPEN or locked.closes_at <= now:
            raise CampaignError(_("The campaign is not open, so there is nobody to remind."))
        # The same lock a chief's own "remind now" takes on a round, so their numbers never collide.
        rounds = list(
            Round.objects.select_for_update()
            .filter(campaign=locked, status=RoundStatus.OPEN, closes_at__gt=now)
            .order_by("pk")
        )
        if not rounds:
            raise CampaignError(_("The campaign is not open, so there is nobody to remind."))
        by_hand = ReminderBatch.objects.filter(round__campaign=locked, manual=True)
        if by_hand.filter(status=ReminderStatus.PENDING).exists():
            raise CampaignError(_("A reminder is already on its way."))
        last = by_hand.aggregate(last=Max("number"))["last"] or FIRST_MANUAL_REMINDER - 1
        return ReminderBatch.objects.bulk_create(
            ReminderBatch(round=round_, number=last + 1, manual=True) for round_ in rounds
        )


def left_out_teams(*, campaign: Campaign) -> list[LeftOut]:
    """The teams of an opened campaign that got no round in it, each with the reason.

    The reason is worked out from what is stored: a team that had a round of its own open on the
    day the campaign opened was left out for that; otherwise it had no leaders, or fewer than k and
    HR chose to leave it out.
    """
    excluded = list(campaign.excluded_teams.order_by("name"))
    if not excluded:
        return []
    opened_on = Round.objects.filter(campaign=campaign).aggregate(day=Max("opened_on"))["day"] or campaign.opens_on
    own = {}
    for team_id, closes_at in (
        Round.objects.filter(team__in=excluded, opened_on__lte=opened_on)
        .exclude(campaign=campaign)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gte=opened_on))
        .order_by("closes_at")
        .values_list("team_id", "closes_at")
    ):
        own[team_id] = closes_at
    leaders = _leaders_in_branch_now(campaign=campaign, teams=excluded)
    found = []
    for team in excluded:
        if team.pk in own:
            found.append(LeftOut(team=team, reason=LeftOut.OWN_ROUND, closes_at=own[team.pk]))
        elif not leaders.get(team.pk):
            found.append(LeftOut(team=team, reason=LeftOut.NO_LEADERS))
        else:
            found.append(LeftOut(team=team, reason=LeftOut.SMALL))
    return found


def _leaders_in_branch_now(*, campaign: Campaign, teams: list[Team]) -> dict[int, int]:
    """Leaders of each of these teams now, as preview() counts them (active teams of the campaign's
    branch, active people), read for these teams only: not the whole branch on every page view."""
    in_branch = [team.pk for team in teams if team.active]
    if campaign.root_team_id is not None:
        chains = chains_upwards(in_branch)
        in_branch = [pk for pk in in_branch if campaign.root_team_id in chains.get(pk, ())]
    return dict(
        Team.objects.filter(pk__in=in_branch)
        .annotate(n=Count("memberships", filter=Q(memberships__person__active=True)))
        .values_list("pk", "n")
    )


def launch_campaign(
    *, campaign: Campaign, excluded_team_ids: set[int] = frozenset(), now: datetime.datetime | None = None
) -> list[Round]:
    """Open one round per included team, all closing together, and queue the invitations.

    Only teams under k may be left out; a team left in that is under k still gets its round (the
    chief's own answers and the meeting guide), and its leaders' answers count only in roll-ups
    that meet the rules. Teams without any leader get no round, and nor does a team that already
    has a round open (its chief's own): it keeps that one. A campaign whose opening day is still
    to come is scheduled instead, and opens by itself that day (`launch_due_campaigns`).
    """
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status != CampaignStatus.DRAFT:
            raise CampaignError(_("The campaign has already been launched."))
        teams = preview(
            organisation=campaign.organisation, root_team=campaign.root_team, k=campaign.anonymity_threshold
        )
        if {t.team.pk for t in teams if not (t.small or t.has_open_round)} & set(excluded_team_ids):
            raise CampaignError(
                _(
                    "Only teams with fewer leaders than the anonymity threshold, or with a round of their own "
                    "open, can be left out."
                )
            )
        campaign.excluded_teams.set(t.team for t in teams if t.team.pk in excluded_team_ids)
        if campaign.opens_on > timezone.localdate(now):
            campaign.status = CampaignStatus.SCHEDULED
            campaign.save(update_fields=["status"])
            return []
        return _open(campaign, teams, now)


def launch_due_campaigns(*, now: datetime.datetime | None = None) -> list[Campaign]:
    """Open every scheduled campaign whose opening day has come (the sender runs this)."""
    now = now or timezone.now()
    opened = []
    for campaign in Campaign.objects.filter(status=CampaignStatus.SCHEDULED, opens_on__lte=timezone.localdate(now)):
        with transaction.atomic():
            campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
            if campaign.status != CampaignStatus.SCHEDULED:
                continue
            teams = preview(
                organisation=campaign.organisation, root_team=campaign.root_team, k=campaign.anonymity_threshold
            )
            _open(campaign, teams, now)
            opened.append(campaign)
    return opened


def _open(campaign: Campaign, teams: list[TeamInCampaign], now: datetime.datetime) -> list[Round]:
    from gensidig.services.mail import outbox as mailing

    excluded = set(campaign.excluded_teams.values_list("pk", flat=True))
    candidates = [t.team for t in teams if t.team.pk not in excluded and t.leaders > 0]
    # Lock the teams first: a chief opening their own round now waits, then finds the campaign's.
    # A team that already has a round open keeps it and sits this campaign out, rather than the
    # whole campaign failing (a scheduled one would otherwise fail on its opening morning).
    list(Team.objects.select_for_update().filter(pk__in=[t.pk for t in candidates]).values_list("pk"))
    busy = _open_rounds_of(candidates)
    included = [team for team in candidates if team.pk not in busy]
    if not included:
        raise CampaignError(_("The campaign has no team to send to."))
    campaign.instrument = current_instrument()
    campaign.status = CampaignStatus.OPEN
    campaign.save(update_fields=["instrument", "status"])
    campaign.excluded_teams.add(*(t.team for t in teams if t.leaders == 0 or t.team.pk in busy))
    try:
        opened = open_rounds(
            teams=included,
            closes_at=campaign.closes_at,
            threshold=campaign.anonymity_threshold,
            campaign=campaign,
            now=now,
            with_links=False,
        )
    except RoundError as error:
        raise CampaignError(str(error)) from error
    rounds = [round_ for round_, _links in opened]
    mailing.queue_invitations(rounds=rounds)
    return rounds
