"""A demo organisation with answers, built through the same services real answers go through.

Running it again replaces the demo organisation, so the printed links are always fresh (tokens
are kept only as hashes and cannot be printed twice).
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from gensidig.models import Organisation, Round, Team, User
from gensidig.models.choices import DONT_KNOW, Role, Scale
from gensidig.services.answering import Answers, questions_for, submit_answers, ticket_for
from gensidig.services.rounds import AnswerLink, close_round, open_round
from gensidig.services.teams import create_team
from gensidig.services.tokens import hash_token

DEMO_SLUG = "demo"
DEMO_DOMAIN = "demo.gensidig.dk"
DEMO_PASSWORD = "demo-gensidig"  # noqa: S105 - a published demo login, not a secret
CHIEF_EMAIL = f"chef@{DEMO_DOMAIN}"

# How the demo team's leaders see their chief, theme by theme: (importance, experience).
LEADER_PROFILE = {
    "direction": (4.5, 2.9),
    "autonomy": (4.4, 4.0),
    "sparring": (4.2, 3.1),
    "teamwork": (3.9, 3.6),
    "communication": (4.3, 3.8),
    "strengths": (3.8, 2.7),
}
# How well leaders find they live up to the chief's expectations, and how well the chief finds it.
LEADER_FULFILMENT = {
    "direction": 3.9,
    "autonomy": 4.2,
    "sparring": 3.6,
    "teamwork": 3.5,
    "communication": 4.0,
    "strengths": 3.6,
}
CHIEF_FULFILMENT = {
    "direction": 3.6,
    "autonomy": 4.0,
    "sparring": 2.8,
    "teamwork": 3.4,
    "communication": 4.0,
    "strengths": 3.5,
}
# How the chief sees themself (a little kinder than the leaders do, as chiefs often are).
CHIEF_PROFILE = {"direction": 4, "autonomy": 4, "sparring": 4, "teamwork": 3, "communication": 4, "strengths": 3}
# Demo comments, written for the demo (not from any real survey).
DEMO_COMMENTS = {
    "direction": [
        "Vi hører ofte om nye beslutninger samtidig med medarbejderne. Jeg vil gerne kende baggrunden lidt før.",
        "Temadagen i foråret gav et godt fælles billede af, hvor vi skal hen. Mere af det.",
    ],
    "sparring": [
        "Det kan tage lang tid at få svar i travle perioder, og så står sagerne stille hos os.",
        "Når vi endelig får tid sammen, er sparringen rigtig god.",
    ],
    "strengths": ["Jeg ved ikke, om min chef kender det, jeg er særligt god til."],
    "teamwork": ["Ledermøderne handler næsten kun om drift. Vi taler sjældent om helheden."],
}


@dataclass
class DemoLinks:
    base_url: str
    chief_email: str
    password: str
    closed_report: Round
    small_team_report: Round
    open_round: Round
    leader_link: str
    chief_link: str


def _clamp(value: float) -> int:
    return max(1, min(5, round(value)))


def _leader_answers(rng: random.Random, round_: Round, *, comment_pool: dict[str, list[str]]) -> Answers:
    ratings = {}
    for key, scale in questions_for(instrument=round_.instrument, role=Role.LEADER):
        theme = key.split(".")[0]
        importance, experience = LEADER_PROFILE[theme]
        centre = {
            Scale.IMPORTANCE: importance,
            Scale.EXPERIENCE: experience,
            Scale.FULFILMENT: LEADER_FULFILMENT[theme],
        }[scale]
        spread = 1.3 if theme == "sparring" and scale == Scale.EXPERIENCE else 0.7
        ratings[(key, scale)] = DONT_KNOW if rng.random() < 0.03 else _clamp(rng.gauss(centre, spread))
    chosen = {}
    for theme, texts in comment_pool.items():
        if texts and rng.random() < 0.5:
            chosen[theme] = texts.pop()
    return Answers(ratings=ratings, comments=chosen)


def _chief_answers(rng: random.Random, round_: Round) -> Answers:
    ratings = {}
    for key, scale in questions_for(instrument=round_.instrument, role=Role.CHIEF):
        theme = key.split(".")[0]
        centre = {
            Scale.IMPORTANCE: 4.2,
            Scale.EXPERIENCE: CHIEF_PROFILE[theme],
            Scale.FULFILMENT: CHIEF_FULFILMENT[theme],
        }[scale]
        ratings[(key, scale)] = _clamp(rng.gauss(centre, 0.4))
    return Answers(ratings=ratings, comments={})


def _answer(links: list[AnswerLink], round_: Round, rng: random.Random, *, leaders: int, chief: bool) -> None:
    leader_links = [link for link in links if link.role == Role.LEADER][:leaders]
    comment_pool = {theme: list(texts) for theme, texts in DEMO_COMMENTS.items()}
    for link in leader_links:
        answers = _leader_answers(rng, round_, comment_pool=comment_pool)
        submit_answers(ticket=ticket_for(token_hash=hash_token(link.token)), answers=answers)
    if chief:
        chief_link = next(link for link in links if link.role == Role.CHIEF)
        submit_answers(ticket=ticket_for(token_hash=hash_token(chief_link.token)), answers=_chief_answers(rng, round_))


def remove_demo() -> None:
    with transaction.atomic():
        organisation = Organisation.objects.filter(slug=DEMO_SLUG).first()
        if organisation:
            Round.objects.filter(team__organisation=organisation).delete()
            Team.objects.filter(organisation=organisation).delete()
            organisation.delete()
        User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").delete()


def build_demo(*, base_url: str, seed: int = 2016) -> DemoLinks:
    """Replace the demo organisation: a team with a closed and an open round, and a small team."""
    rng = random.Random(seed)
    remove_demo()
    now = timezone.now()
    organisation = Organisation.objects.create(
        slug=DEMO_SLUG, name="Demo Kommune", privacy_contact=f"dpo@{DEMO_DOMAIN}", retention_months=36
    )
    main = create_team(
        organisation=organisation,
        name="Sundhed og Ældre",
        chief_email=CHIEF_EMAIL,
        chief_name="Mette Holm",
        leader_emails=[f"leder{i}@{DEMO_DOMAIN}" for i in range(1, 10)],
    )
    small = create_team(
        organisation=organisation,
        name="Stab og Udvikling",
        chief_email=CHIEF_EMAIL,
        leader_emails=[f"stab{i}@{DEMO_DOMAIN}" for i in range(1, 4)],
    )
    chief = main.chief.user
    chief.set_password(DEMO_PASSWORD)
    chief.first_name = "Mette"
    chief.save()

    first, links = open_round(team=main, closes_at=now + datetime.timedelta(days=1), now=now)
    _answer(links, first, rng, leaders=8, chief=True)
    first = close_round(round_=first)

    small_round, small_links = open_round(team=small, closes_at=now + datetime.timedelta(days=1), now=now)
    _answer(small_links, small_round, rng, leaders=3, chief=True)
    small_round = close_round(round_=small_round)

    in_two_weeks = timezone.localtime(now).replace(hour=16, minute=0, second=0, microsecond=0) + datetime.timedelta(
        days=14
    )
    second, open_links = open_round(team=main, closes_at=in_two_weeks, now=now)
    _answer(open_links, second, rng, leaders=4, chief=False)
    unused_leader = [link for link in open_links if link.role == Role.LEADER][4]
    chief_link = next(link for link in open_links if link.role == Role.CHIEF)
    return DemoLinks(
        base_url=base_url,
        chief_email=CHIEF_EMAIL,
        password=DEMO_PASSWORD,
        closed_report=first,
        small_team_report=small_round,
        open_round=second,
        leader_link=f"{base_url}/a/{unused_leader.token}/",
        chief_link=f"{base_url}/a/{chief_link.token}/",
    )
