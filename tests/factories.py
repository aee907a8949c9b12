"""Factories and small builders: a team, an open round with its links, answers, a closed round."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable

import factory
from django.utils import timezone

from gensidig.models import Organisation, Person, Team, TeamMembership
from gensidig.models.choices import Role
from gensidig.services.organisation.teams import ensure_login
from gensidig.services.survey.answering import submit_answers, ticket_for
from gensidig.services.survey.closing import close_round
from gensidig.services.survey.links import AnswerLink
from gensidig.services.survey.questions import Answers, questions_for
from gensidig.services.survey.rounds import open_round
from gensidig.services.survey.tokens import hash_token

CHIEF_PASSWORD = "chief-password-1"
_sequence = itertools.count(1)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"Kommune {n}")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"person{n}@kommune.example")
    name = factory.Sequence(lambda n: f"Person {n}")


def make_team(*, leaders: int = 8, threshold: int = 5, organisation: Organisation | None = None) -> Team:
    """A team with a chief who can sign in (password CHIEF_PASSWORD) and some leaders."""
    organisation = organisation or OrganisationFactory(anonymity_threshold=threshold)
    n = next(_sequence)
    chief = PersonFactory(organisation=organisation, email=f"chief{n}@kommune.example", name=f"Chief {n}")
    user = ensure_login(person=chief)
    user.set_password(CHIEF_PASSWORD)
    user.save()
    team = Team.objects.create(organisation=organisation, name=f"Team {n}", slug=f"team-{n}", chief=chief)
    for _ in range(leaders):
        TeamMembership.objects.create(team=team, person=PersonFactory(organisation=organisation))
    return team


def start_round(team: Team, *, threshold: int | None = None, days: int = 14):
    return open_round(team=team, closes_at=timezone.now() + datetime.timedelta(days=days), threshold=threshold)


def answers_for(round_, role: str, value: int | Callable[[str, str], int] = 4, comments=None) -> Answers:
    """Answers to every question: the same value, or value(item_key, scale)."""
    pick = value if callable(value) else (lambda key, scale: value)
    ratings = {(key, scale): pick(key, scale) for key, scale in questions_for(instrument=round_.instrument, role=role)}
    return Answers(ratings=ratings, comments=comments or {})


def answer(link: AnswerLink, answers: Answers):
    submit_answers(ticket=ticket_for(token_hash=hash_token(link.token)), answers=answers)
    return True


def leader_links(links: list[AnswerLink]) -> list[AnswerLink]:
    return [link for link in links if link.role == Role.LEADER]


def chief_link(links: list[AnswerLink]) -> AnswerLink:
    return next(link for link in links if link.role == Role.CHIEF)


def closed_round(team: Team, *, answering: int, value=4, chief_value=3, comments=None, threshold=None):
    """Open a round, let `answering` leaders and the chief answer, and close it."""
    round_, links = start_round(team, threshold=threshold)
    for link in leader_links(links)[:answering]:
        answer(link, answers_for(round_, Role.LEADER, value, comments=comments))
    if chief_value is not None:
        answer(chief_link(links), answers_for(round_, Role.CHIEF, chief_value))
    return close_round(round_=round_)
