"""Campaigns: one round for every management team of an organisation, or of one branch of it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gensidig.models import Campaign, CampaignStatus, Organisation, Round, Team
from gensidig.services.access import descendants
from gensidig.services.survey.instruments import current_instrument
from gensidig.services.survey.rounds import RoundError, open_rounds


class CampaignError(ValueError):
    """The campaign cannot be created, launched or closed as asked; the message says why."""


@dataclass(frozen=True)
class TeamInCampaign:
    team: Team
    leaders: int
    k: int

    @property
    def small(self) -> bool:
        """Fewer leaders than k: their figures can never be shown for the team on its own."""
        return self.leaders < self.k


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
    return [TeamInCampaign(team=team, leaders=counts.get(team.pk, 0), k=k) for team in teams]


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
    if root_team is not None and root_team.organisation_id != organisation.pk:
        raise CampaignError(_("The branch must be a team of the same organisation."))
    if closes_at.date() < opens_on:
        raise CampaignError(_("The campaign must close after it opens."))
    return Campaign.objects.create(
        organisation=organisation,
        name=name,
        root_team=root_team,
        opens_on=opens_on,
        closes_at=closes_at,
        anonymity_threshold=organisation.anonymity_threshold,
        created_by=created_by,
    )


def launch_campaign(
    *, campaign: Campaign, excluded_team_ids: set[int] = frozenset(), now: datetime.datetime | None = None
) -> list[Round]:
    """Open one round per included team, all closing together, and queue the invitations.

    Only teams under k may be left out; a team left in that is under k still gets its round (the
    chief's own answers and the meeting guide), and its leaders' answers count only in roll-ups
    that meet the rules. Teams without any leader get no round. A campaign whose opening day is
    still to come is scheduled instead, and opens by itself that day (`launch_due_campaigns`).
    """
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status != CampaignStatus.DRAFT:
            raise CampaignError(_("The campaign has already been launched."))
        teams = preview(
            organisation=campaign.organisation, root_team=campaign.root_team, k=campaign.anonymity_threshold
        )
        if {t.team.pk for t in teams if not t.small} & set(excluded_team_ids):
            raise CampaignError(_("Only teams with fewer leaders than the anonymity threshold can be left out."))
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
    included = [t.team for t in teams if t.team.pk not in excluded and t.leaders > 0]
    if not included:
        raise CampaignError(_("The campaign has no team to send to."))
    campaign.instrument = current_instrument()
    campaign.status = CampaignStatus.OPEN
    campaign.save(update_fields=["instrument", "status"])
    campaign.excluded_teams.add(*(t.team for t in teams if t.leaders == 0))
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
