"""Opening rounds, and the answer links that go with them (closing is services.survey.closing)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from gensidig.models import AnswerToken, Invitation, Person, Round, RoundKey, Team, TeamMembership
from gensidig.models.choices import Role, RoundStatus
from gensidig.services.ballots import keys
from gensidig.services.survey.instruments import current_instrument
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

    The anonymity threshold is fixed now and shown to everyone before they answer. The round
    gets its own key pair for sealing ballots; no counter exists until it closes (DESIGN.md 2.1).
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
    with_links: bool = True,
    leaders: dict[int, list[Person]] | None = None,
) -> list[tuple[Round, list[AnswerLink]]]:
    """Open the next round of each team in one transaction, in a few bulk statements however
    many teams (a campaign of a whole municipality opens hundreds at once).

    The leaders invited are each team's active members in the org chart, unless `leaders` names
    them (a chief's own round, with leaders added or left out for it). With links, each invitation
    gets one now, returned for printing; a campaign makes none here, because its outbox makes each
    person's link when it sends their e-mail.
    """
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
    if leaders is None:
        leaders = {team.pk: [] for team in teams}
        for membership in (
            TeamMembership.objects.filter(team__in=teams, person__active=True)
            .select_related("person")
            .order_by("person_id")
        ):
            leaders[membership.team_id].append(membership.person)
    empty = [team.name for team in teams if not leaders[team.pk]]
    if empty:
        raise RoundError(_("These teams have no leaders to invite: %(teams)s.") % {"teams": ", ".join(empty)})
    instrument = current_instrument()
    try:
        master = keys.master_key()  # before anything is written: without a master key no round can open
    except keys.BallotKeyError as error:
        raise RoundError(str(error)) from error
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
        RoundKey.objects.bulk_create((keys.new_round_key(round_, master=master) for round_ in rounds), batch_size=500)
        links = _create_invitations(
            [
                (round_, [(team.chief, Role.CHIEF)] + [(p, Role.LEADER) for p in leaders[team.pk]])
                for round_, team in zip(rounds, teams, strict=True)
            ],
            with_links=with_links,
        )
    return [(round_, links.get(round_.pk, [])) for round_ in rounds]


def _create_invitations(
    people_by_round: list[tuple[Round, list[tuple[Person, str]]]], *, with_links: bool
) -> dict[int, list[AnswerLink]]:
    invitations = [
        Invitation(round=round_, person=person, role=role)
        for round_, people in people_by_round
        for person, role in people
    ]
    Invitation.objects.bulk_create(invitations, batch_size=2000)
    return _links_for(invitations) if with_links else {}


def _links_for(invitations: list[Invitation]) -> dict[int, list[AnswerLink]]:
    """A new link for each invitation, stored as the hash of its token; the tokens only in the links returned."""
    links: dict[int, list[AnswerLink]] = {invitation.round_id: [] for invitation in invitations}
    tokens = []
    for invitation in invitations:
        token = new_token()
        tokens.append(AnswerToken(invitation=invitation, token_hash=token.token_hash))
        links[invitation.round_id].append(AnswerLink(person=invitation.person, role=invitation.role, token=token.token))
    AnswerToken.objects.bulk_create(tokens, batch_size=2000)
    return links


def reissue_links(*, round_: Round) -> list[AnswerLink]:
    """New links for everyone who has not answered yet; the links they have keep working.

    Tokens are stored only as hashes, so a lost link cannot be shown again, only replaced. A new
    link is made for every invitation of the round, answered or not, so the rows written do not
    tell who had not answered yet; only the links of those who have not are returned.
    """
    if not round_.accepts_answers():
        raise RoundError(_("The round is closed; its links can no longer be used."))
    with transaction.atomic():
        invitations = list(round_.invitations.select_related("person").order_by("pk"))
        links = _links_for(invitations).get(round_.pk, [])
    unanswered = {invitation.pk for invitation in invitations if not invitation.used}
    return [link for invitation, link in zip(invitations, links, strict=True) if invitation.pk in unanswered]


def raise_threshold(*, round_: Round, threshold: int) -> Round:
    """Make a round's anonymity threshold stricter. It can never be lowered once the round is open."""
    if threshold <= round_.anonymity_threshold:
        raise RoundError(_("The anonymity threshold of an open round can only be raised."))
    if round_.is_closed:
        raise RoundError(_("The round is closed; its figures are already computed."))
    Round.objects.filter(pk=round_.pk, anonymity_threshold__lt=threshold).update(anonymity_threshold=threshold)
    round_.refresh_from_db(fields=["anonymity_threshold"])
    return round_
