"""Opening and closing rounds, and the answer links that go with them."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from gensidig.models import Invitation, Person, RatingCounter, Round, Team, TeamMembership
from gensidig.models.choices import Role, RoundStatus
from gensidig.services.results import compute_results
from gensidig.services.survey.instruments import counter_slots, current_instrument, items_by_key
from gensidig.services.survey.links import AnswerLink
from gensidig.services.survey.tokens import new_token


class RoundError(ValueError):
    """A round cannot be opened or changed as asked; the message says why."""


def open_round(
    *,
    team: Team,
    closes_at: datetime.datetime,
    threshold: int | None = None,
    now: datetime.datetime | None = None,
) -> tuple[Round, list[AnswerLink]]:
    """Open the next round for a team and make one answer link for the chief and each leader.

    The anonymity threshold is fixed now and shown to everyone before they answer. All
    counters are created at zero here, so answering only ever updates rows (DESIGN.md 2.1).
    """
    opened = open_rounds(teams=[team], closes_at=closes_at, threshold=threshold, now=now)
    return opened[0]


def open_rounds(
    *,
    teams: list[Team],
    closes_at: datetime.datetime,
    threshold: int | None = None,
    campaign=None,
    now: datetime.datetime | None = None,
) -> list[tuple[Round, list[AnswerLink]]]:
    """Open the next round of each team in one transaction, in a few bulk statements however
    many teams (a campaign of a whole municipality opens hundreds at once)."""
    now = now or timezone.now()
    if not teams:
        return []
    organisation = teams[0].organisation
    threshold = organisation.anonymity_threshold if threshold is None else threshold
    if threshold < max(settings.GENSIDIG_MINIMUM_THRESHOLD, organisation.anonymity_threshold):
        raise RoundError(
            _("The anonymity threshold cannot be lower than the organisation's (%(k)d).")
            % {"k": organisation.anonymity_threshold}
        )
    if closes_at <= now:
        raise RoundError(_("The closing time must be in the future."))
    leaders: dict[int, list[Person]] = {team.pk: [] for team in teams}
    for membership in TeamMembership.objects.filter(team__in=teams).select_related("person").order_by("person_id"):
        leaders[membership.team_id].append(membership.person)
    empty = [team.name for team in teams if not leaders[team.pk]]
    if empty:
        raise RoundError(_("These teams have no leaders to invite: %(teams)s.") % {"teams": ", ".join(empty)})
    instrument = current_instrument()
    with transaction.atomic():
        list(Team.objects.select_for_update().filter(pk__in=[team.pk for team in teams]).values_list("pk"))
        busy = Round.objects.filter(team__in=teams, status=RoundStatus.OPEN).values_list("team__name", flat=True)
        if busy:
            raise RoundError(
                _("These teams already have an open round; close it before opening the next: %(teams)s.")
                % {"teams": ", ".join(busy)}
            )
        last = dict(
            Round.objects.filter(team__in=teams)
            .values_list("team_id")
            .annotate(last=Max("number"))
            .values_list("team_id", "last")
        )
        rounds = Round.objects.bulk_create(
            Round(
                team=team,
                instrument=instrument,
                number=last.get(team.pk, 0) + 1,
                anonymity_threshold=threshold,
                opened_on=timezone.localdate(now),
                closes_at=closes_at,
                leaders_invited=len(leaders[team.pk]),
                campaign=campaign,
            )
            for team in teams
        )
        _create_counters(rounds, instrument)
        links = _create_invitations(
            [
                (round_, [(team.chief, Role.CHIEF)] + [(p, Role.LEADER) for p in leaders[team.pk]])
                for round_, team in zip(rounds, teams, strict=True)
            ]
        )
    return [(round_, links[round_.pk]) for round_ in rounds]


def _create_counters(rounds: list[Round], instrument) -> None:
    items = items_by_key(instrument)
    slots = counter_slots(instrument).items()
    RatingCounter.objects.bulk_create(
        (
            RatingCounter(round=round_, item=items[key], role=role, scale=scale, slot=slot)
            for round_ in rounds
            for (role, key, scale), slot in slots
        ),
        batch_size=2000,
    )


def _create_invitations(people_by_round: list[tuple[Round, list[tuple[Person, str]]]]) -> dict[int, list[AnswerLink]]:
    links: dict[int, list[AnswerLink]] = {}
    invitations = []
    for round_, people in people_by_round:
        links[round_.pk] = []
        for person, role in people:
            token = new_token()
            invitations.append(Invitation(round=round_, person=person, role=role, token_hash=token.token_hash))
            links[round_.pk].append(AnswerLink(person=person, role=role, token=token.token))
    Invitation.objects.bulk_create(invitations, batch_size=2000)
    return links


def reissue_links(*, round_: Round) -> list[AnswerLink]:
    """New links for everyone who has not answered yet; their old links stop working.

    Tokens are stored only as hashes, so a lost link cannot be shown again, only replaced.
    """
    if not round_.accepts_answers():
        raise RoundError(_("The round is closed; its links can no longer be used."))
    links = []
    with transaction.atomic():
        for invitation in (
            round_.invitations.select_for_update(of=("self",)).filter(used=False).select_related("person")
        ):
            token = new_token()
            invitation.token_hash = token.token_hash
            invitation.save(update_fields=["token_hash"])
            links.append(AnswerLink(person=invitation.person, role=invitation.role, token=token.token))
    return links


def close_round(*, round_: Round, now: datetime.datetime | None = None) -> Round:
    """Close a round: no more answers, and its figures are computed once and stored.

    A round of a campaign closes with all the campaign's rounds: their figures share one
    suppression pattern.
    """
    now = now or timezone.now()
    if round_.campaign_id:
        from gensidig.services.campaigns import close_campaign

        close_campaign(campaign=round_.campaign, now=now)
        return Round.objects.select_related("instrument").get(pk=round_.pk)
    with transaction.atomic():
        locked = Round.objects.select_for_update().select_related("instrument").get(pk=round_.pk)
        if locked.is_closed:
            return locked
        locked.status = RoundStatus.CLOSED
        locked.closed_on = timezone.localdate(now)
        locked.save(update_fields=["status", "closed_on"])
        compute_results(round_=locked)
    return locked


def close_due_rounds(*, now: datetime.datetime | None = None, among=None) -> list[Round]:
    """Close every open round whose closing time has passed (run from cron), or only those `among` a queryset."""
    now = now or timezone.now()
    due = (Round.objects.all() if among is None else among).filter(status=RoundStatus.OPEN, closes_at__lte=now)
    return [close_round(round_=r, now=now) for r in due]


def raise_threshold(*, round_: Round, threshold: int) -> Round:
    """Make a round's anonymity threshold stricter. It can never be lowered once the round is open."""
    if threshold <= round_.anonymity_threshold:
        raise RoundError(_("The anonymity threshold of an open round can only be raised."))
    if round_.is_closed:
        raise RoundError(_("The round is closed; its figures are already computed."))
    Round.objects.filter(pk=round_.pk, anonymity_threshold__lt=threshold).update(anonymity_threshold=threshold)
    round_.refresh_from_db(fields=["anonymity_threshold"])
    return round_
