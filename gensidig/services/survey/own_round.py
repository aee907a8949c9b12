"""A chief's own round: one chief and their leaders, opened from the browser (issue 10).

The leaders come from the org chart (the team's active members); for this round only, the chief
may add leaders by e-mail address and leave members out. The invitations go through the outbox,
like a campaign's. While the round runs the chief sees counts only, can send a reminder now (to
whoever has not answered, never named), have failed invitations sent again with new links, move the
closing time later and close early.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gensidig.models import Campaign, CampaignStatus, Person, ReminderBatch, ReminderStatus, Round, Team
from gensidig.models.choices import RoundStatus
from gensidig.services.access import descendants
from gensidig.services.survey.rounds import RoundError, open_rounds

# Reminders sent by hand are numbered from here, apart from the scheduled ones (1, 2, ...).
FIRST_MANUAL_REMINDER = 101


@dataclass(frozen=True)
class RoundPlan:
    """Who a chief's own round would invite, before it opens."""

    team: Team
    members: list[Person]  # the team's active leaders in the org chart, less those left out
    left_out: list[Person]
    added: list[str]  # addresses added for this round only, as given (lower case)
    k: int

    @property
    def leaders(self) -> int:
        return len(self.members) + len(self.added)

    @property
    def under_k(self) -> bool:
        """Fewer leaders than k: their figures cannot be shown, only the chief's own answers and the guide."""
        return self.leaders < self.k


def _addresses(raw: list[str]) -> list[str]:
    found = []
    for line in raw:
        for part in line.replace(",", " ").replace(";", " ").split():
            address = part.strip().lower()
            try:
                validate_email(address)
            except ValidationError as error:
                raise RoundError(_("“%(address)s” is not an e-mail address.") % {"address": part}) from error
            if address not in found:
                found.append(address)
    return found


def plan_own_round(*, team: Team, add: list[str] = (), leave_out: list[str] = ()) -> RoundPlan:
    """Who would be invited: the team's leaders, less those left out (by address), plus those added."""
    members = list(team.leaders.filter(active=True).order_by("name", "email"))
    out = set(_addresses(list(leave_out)))
    added = [a for a in _addresses(list(add)) if a not in {m.email.lower() for m in members}]
    if team.chief.email.lower() in added:
        raise RoundError(_("The chief answers the chief's own questions and cannot be invited as a leader too."))
    return RoundPlan(
        team=team,
        members=[m for m in members if m.email.lower() not in out],
        left_out=[m for m in members if m.email.lower() in out],
        added=added,
        k=team.organisation.anonymity_threshold,
    )


def campaign_in_the_way(team: Team, *, now: datetime.datetime | None = None) -> Campaign | None:
    """A campaign that is scheduled or open and covers the team: its own round would collide."""
    now = now or timezone.now()
    for campaign in Campaign.objects.filter(
        organisation=team.organisation, status__in=[CampaignStatus.SCHEDULED, CampaignStatus.OPEN]
    ).select_related("root_team"):
        if campaign.excluded_teams.filter(pk=team.pk).exists():
            continue
        if campaign.root_team_id is None or campaign.root_team_id == team.pk:
            return campaign
        below = descendants([campaign.root_team], organisation=team.organisation)[campaign.root_team_id]
        if team.pk in below:
            return campaign
    return None


def open_own_round(
    *,
    team: Team,
    closes_at: datetime.datetime,
    add: list[str] = (),
    leave_out: list[str] = (),
    now: datetime.datetime | None = None,
) -> Round:
    """Open the team's next round with the planned leaders, and queue every invitation e-mail."""
    from gensidig.services.mail import outbox

    now = now or timezone.now()
    plan = plan_own_round(team=team, add=add, leave_out=leave_out)
    campaign = campaign_in_the_way(team, now=now)
    if campaign is not None:
        raise RoundError(
            _("The team is part of the campaign “%(campaign)s”, which gives it a round of its own.")
            % {"campaign": campaign.name}
        )
    if plan.leaders == 0:
        raise RoundError(_("Add at least one leader to invite."))
    with transaction.atomic():
        added = []
        for address in plan.added:
            person = Person.objects.filter(organisation=team.organisation, email__iexact=address).first()
            if person is None:
                person = Person.objects.create(organisation=team.organisation, email=address)
            added.append(person)
        ((round_, _links),) = open_rounds(
            teams=[team],
            closes_at=closes_at,
            now=now,
            with_links=False,
            leaders={team.pk: [*plan.members, *added]},
        )
        outbox.queue_invitations(rounds=[round_])
    return round_


def remind_now(*, round_: Round, now: datetime.datetime | None = None) -> ReminderBatch:
    """A reminder to whoever has not answered, sent by the next run of the sender; counts only."""
    now = now or timezone.now()
    if not round_.accepts_answers(now):
        raise RoundError(_("The round is closed; there is nobody left to remind."))
    with transaction.atomic():
        Round.objects.select_for_update().filter(pk=round_.pk).first()
        if round_.reminder_batches.filter(manual=True, status=ReminderStatus.PENDING).exists():
            raise RoundError(_("A reminder is already on its way."))
        last = round_.reminder_batches.filter(manual=True).order_by("-number").values_list("number", flat=True).first()
        return ReminderBatch.objects.create(round=round_, number=(last or FIRST_MANUAL_REMINDER - 1) + 1, manual=True)


def extend_round(*, round_: Round, closes_at: datetime.datetime, now: datetime.datetime | None = None) -> Round:
    """Move the closing time later; never earlier (to close now, close the round)."""
    now = now or timezone.now()
    if round_.status != RoundStatus.OPEN:
        raise RoundError(_("The round is closed."))
    if round_.campaign_id:
        raise RoundError(_("A campaign's rounds close together; HR changes the campaign's closing time."))
    if closes_at <= round_.closes_at:
        raise RoundError(_("The new closing time must be later than the current one."))
    Round.objects.filter(pk=round_.pk, status=RoundStatus.OPEN).update(closes_at=closes_at)
    round_.refresh_from_db(fields=["closes_at"])
    return round_
