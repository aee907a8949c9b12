"""Opening and closing rounds, and the answer links that go with them."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from gensidig.models import Invitation, Person, RatingCounter, Round, Team
from gensidig.models.choices import Role, RoundStatus
from gensidig.services.instruments import counter_slots, current_instrument, items_by_key
from gensidig.services.results import compute_results
from gensidig.services.tokens import new_token


class RoundError(ValueError):
    """A round cannot be opened or changed as asked; the message says why."""


@dataclass(frozen=True)
class AnswerLink:
    """A freshly made answer link. The token exists only here, in memory, until it is handed out."""

    person: Person
    role: str
    token: str

    @property
    def url(self) -> str:
        return answer_url(self.token)


def answer_url(token: str) -> str:
    return f"{settings.SITE_URL}/a/{token}/"


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
    now = now or timezone.now()
    organisation = team.organisation
    threshold = organisation.anonymity_threshold if threshold is None else threshold
    if threshold < max(settings.GENSIDIG_MINIMUM_THRESHOLD, organisation.anonymity_threshold):
        raise RoundError(
            _("The anonymity threshold cannot be lower than the organisation's (%(k)d).")
            % {"k": organisation.anonymity_threshold}
        )
    if closes_at <= now:
        raise RoundError(_("The closing time must be in the future."))
    leaders = list(team.leaders.order_by("pk"))
    if not leaders:
        raise RoundError(_("The team has no leaders to invite."))
    instrument = current_instrument()
    with transaction.atomic():
        Team.objects.select_for_update().filter(pk=team.pk).first()
        if team.rounds.filter(status=RoundStatus.OPEN).exists():
            raise RoundError(_("The team already has an open round. Close it before opening the next."))
        number = (team.rounds.aggregate(last=Max("number"))["last"] or 0) + 1
        round_ = Round.objects.create(
            team=team,
            instrument=instrument,
            number=number,
            anonymity_threshold=threshold,
            opened_on=timezone.localdate(now),
            closes_at=closes_at,
            leaders_invited=len(leaders),
        )
        _create_counters(round_)
        links = _create_invitations(round_, [(team.chief, Role.CHIEF)] + [(p, Role.LEADER) for p in leaders])
    return round_, links


def _create_counters(round_: Round) -> None:
    items = items_by_key(round_.instrument)
    RatingCounter.objects.bulk_create(
        RatingCounter(round=round_, item=items[key], role=role, scale=scale, slot=slot)
        for (role, key, scale), slot in counter_slots(round_.instrument).items()
    )


def _create_invitations(round_: Round, people: list[tuple[Person, str]]) -> list[AnswerLink]:
    links, invitations = [], []
    for person, role in people:
        token = new_token()
        invitations.append(Invitation(round=round_, person=person, role=role, token_hash=token.token_hash))
        links.append(AnswerLink(person=person, role=role, token=token.token))
    Invitation.objects.bulk_create(invitations)
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
    """Close a round: no more answers, and its figures are computed once and stored."""
    now = now or timezone.now()
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
