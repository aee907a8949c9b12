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

from gensidig.models import (
    AgreementOwner,
    AgreementStatus,
    Campaign,
    InvitationMail,
    MailStatus,
    Organisation,
    Person,
    Round,
    Team,
    User,
)
from gensidig.models.choices import DONT_KNOW, Role, Scale
from gensidig.services.access import add_admin
from gensidig.services.agreements import record_agreement, update_status
from gensidig.services.campaigns import create_campaign, launch_campaign
from gensidig.services.orgchart import apply_import, read_chart
from gensidig.services.signin import user_for_email
from gensidig.services.survey.answering import submit_answers, ticket_for
from gensidig.services.survey.closing import close_campaign, close_round
from gensidig.services.survey.instruments import framework_for
from gensidig.services.survey.questions import Answers, questions_for
from gensidig.services.survey.rounds import open_round, reissue_links
from gensidig.services.survey.tokens import hash_token

DEMO_SLUG = "demo"
DEMO_DOMAIN = "demo.gensidig.dk"
DEMO_PASSWORD = "demo-gensidig"  # noqa: S105 - a published demo login, not a secret
CHIEF_EMAIL = f"chef@{DEMO_DOMAIN}"
ADMIN_EMAIL = f"hr@{DEMO_DOMAIN}"
# The chief of a team of three: their leaders' figures are withheld.
SMALL_TEAM_CHIEF_EMAIL = f"leder1@{DEMO_DOMAIN}"

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
    admin_email: str
    small_team_chief_email: str
    password: str
    campaign: Campaign
    closed_report: Round
    earlier_report: Round
    small_team_report: Round
    open_round: Round
    leader_link: str
    chief_link: str


def _clamp(value: float) -> int:
    return max(1, min(5, round(value)))


def _leader_answers(
    rng: random.Random, round_: Round, *, comment_pool: dict[str, list[str]], shift: dict[str, float] | None = None
) -> Answers:
    ratings = {}
    for key, scale in questions_for(instrument=round_.instrument, role=Role.LEADER):
        theme = key.split(".")[0]
        importance, experience = LEADER_PROFILE[theme]
        experience += (shift or {}).get(theme, 0.0)
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


def remove_demo() -> None:
    with transaction.atomic():
        organisation = Organisation.objects.filter(slug=DEMO_SLUG).first()
        if organisation:
            Campaign.objects.filter(organisation=organisation).delete()
            Round.objects.filter(team__organisation=organisation).delete()
            Team.objects.filter(organisation=organisation).delete()
            organisation.delete()
        User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").delete()


def _person(local: str, name: str, manager: str, unit: str) -> str:
    manager_email = f"{manager}@{DEMO_DOMAIN}" if manager else ""
    return f"{local}@{DEMO_DOMAIN};{name};{manager_email};{unit}"


def demo_chart() -> bytes:
    """The demo municipality's org chart, as HR would upload it (Danish headers, semicolons)."""
    rows = [
        _person("direktor", "Anne Lund", "", "Direktionen"),
        _person("chef", "Mette Holm", "direktor", "Sundhed og Ældre"),
        _person("kultur", "Jonas Bæk", "direktor", "Kultur og Fritid"),
        _person("stab", "Sofie Krogh", "direktor", "Stab og Udvikling"),
    ]
    rows += [_person(f"leder{i}", f"Leder {i}", "chef", "Sundhed og Ældre") for i in range(1, 10)]
    rows[4] = _person("leder1", "Ole Ærø", "chef", "Hjemmeplejen Nord")
    rows[5] = _person("leder2", "Åse Østergaard", "chef", "Plejecenter Solhøj")
    rows += [_person(f"hjem{i}", f"Gruppeleder {i}", "leder1", "Hjemmeplejen Nord") for i in range(1, 4)]
    rows += [_person(f"sol{i}", f"Afdelingsleder {i}", "leder2", "Plejecenter Solhøj") for i in range(1, 7)]
    rows += [_person(f"kultur{i}", f"Leder K{i}", "kultur", "Kultur og Fritid") for i in range(1, 7)]
    rows += [_person(f"stab{i}", f"Konsulentleder {i}", "stab", "Stab og Udvikling") for i in range(1, 5)]
    return ("e-mail;navn;leder;enhed\n" + "\n".join(rows)).encode("utf-8")


def _answer_round(
    round_: Round, rng: random.Random, *, leaders: int, chief: bool, shift: dict[str, float] | None = None
) -> None:
    links = reissue_links(round_=round_)
    comment_pool = {theme: list(texts) for theme, texts in DEMO_COMMENTS.items()}
    for link in [link for link in links if link.role == Role.LEADER][:leaders]:
        answers = _leader_answers(rng, round_, comment_pool=comment_pool, shift=shift)
        submit_answers(ticket=ticket_for(token_hash=hash_token(link.token)), answers=answers)
    if chief:
        link = next(link for link in links if link.role == Role.CHIEF)
        submit_answers(ticket=ticket_for(token_hash=hash_token(link.token)), answers=_chief_answers(rng, round_))


# Last autumn the leaders experienced less of these; the spring round shows the change.
AUTUMN_SHIFT = {"direction": -0.8, "sparring": -0.6, "strengths": -0.3, "teamwork": 0.2}
# What the team agreed after last autumn's round: (theme, which need, text, owner, status).
AUTUMN_AGREEMENTS = [
    (
        "direction",
        0,
        "Mette giver en kort orientering fra direktionen på hvert ledermøde, før nyt når medarbejderne.",
        AgreementOwner.CHIEF,
        AgreementStatus.DONE,
    ),
    (
        "sparring",
        1,
        "Fast sparringstid hver anden uge med hver leder; aflyses den, finder vi en ny tid samme uge.",
        AgreementOwner.CHIEF,
        AgreementStatus.IN_PROGRESS,
    ),
    (
        "teamwork",
        0,
        "Hvert andet ledermøde får et tema om helheden i stedet for drift.",
        AgreementOwner.TEAM,
        AgreementStatus.DONE,
    ),
]


def _last_autumns_round(team: Team, rng: random.Random, *, now: datetime.datetime) -> Round:
    """A round for the main team half a year ago, with the agreements made after it."""
    round_, _links = open_round(team=team, closes_at=now + datetime.timedelta(days=1), now=now)
    _answer_round(round_, rng, leaders=round_.leaders_invited, chief=True, shift=AUTUMN_SHIFT)
    round_ = close_round(round_=round_, now=now)
    # Answers can only be given to an open round, so the demo answers it now and then dates it
    # back to last autumn; only its dates change, never what was answered.
    opened = timezone.localdate(now) - datetime.timedelta(days=200)
    Round.objects.filter(pk=round_.pk).update(
        opened_on=opened,
        closes_at=now - datetime.timedelta(days=186),
        closed_on=opened + datetime.timedelta(days=14),
    )
    round_.refresh_from_db()
    themes = {theme.key: theme for theme in framework_for(round_.instrument, "da").themes}
    for theme_key, need, text, owner, status in AUTUMN_AGREEMENTS:
        agreement = record_agreement(
            round_=round_,
            theme_key=theme_key,
            text=text,
            owner=owner,
            item_keys=[themes[theme_key].needs[need].key],
            due_on=timezone.localdate(now) - datetime.timedelta(days=90),
        )
        update_status(agreement=agreement, status=status)
    return round_


def _agree_and_share(round_: Round, *, now: datetime.datetime) -> None:
    """The spring round's meeting has happened: two agreements, and the report shared with the team."""
    themes = {theme.key: theme for theme in framework_for(round_.instrument, "da").themes}
    record_agreement(
        round_=round_,
        theme_key="strengths",
        owner=AgreementOwner.CHIEF,
        text="Mette holder en samtale med hver leder om, hvad de er særligt gode til, og hvordan det kan bruges bredere.",
        item_keys=[themes["strengths"].needs[0].key],
        due_on=timezone.localdate(now) + datetime.timedelta(days=60),
    )
    helper = Person.objects.get(email=f"leder2@{DEMO_DOMAIN}")
    record_agreement(
        round_=round_,
        theme_key="direction",
        owner=AgreementOwner.LEADER,
        owner_person=helper,
        text="Åse samler de spørgsmål, lederne får fra medarbejderne om budgettet, til næste ledermøde.",
        due_on=timezone.localdate(now) + datetime.timedelta(days=30),
    )
    Round.objects.filter(pk=round_.pk).update(shared_on=timezone.localdate(now))


def build_demo(*, base_url: str, seed: int = 2016) -> DemoLinks:
    """Replace the demo municipality: its chart, a closed campaign with roll-ups, and an open round."""
    rng = random.Random(seed)
    remove_demo()
    now = timezone.now()
    organisation = apply_import(
        organisation_slug=DEMO_SLUG,
        organisation_name="Demo Kommune",
        chart=read_chart(data=demo_chart(), filename="organisation.csv"),
    ).organisation
    Organisation.objects.filter(pk=organisation.pk).update(privacy_contact=f"dpo@{DEMO_DOMAIN}")
    add_admin(email=ADMIN_EMAIL, organisation_slug=DEMO_SLUG)
    for email in (CHIEF_EMAIL, ADMIN_EMAIL, SMALL_TEAM_CHIEF_EMAIL, f"direktor@{DEMO_DOMAIN}"):
        user = user_for_email(email)
        user.set_password(DEMO_PASSWORD)
        user.save()

    main = Team.objects.get(organisation=organisation, chief__email=CHIEF_EMAIL)
    autumn = _last_autumns_round(main, rng, now=now)

    campaign = create_campaign(
        organisation=organisation,
        name="Forår 2026",
        root_team=None,
        opens_on=timezone.localdate(now),
        closes_at=now + datetime.timedelta(days=1),
    )
    rounds = launch_campaign(campaign=campaign, now=now)
    # The demo's invitations are not e-mailed to anyone.
    InvitationMail.objects.filter(invitation__round__campaign=campaign).update(status=MailStatus.SENT)
    for round_ in rounds:
        leaders = round_.leaders_invited
        _answer_round(round_, rng, leaders=leaders - (1 if leaders > 5 else 0), chief=True)
    close_campaign(campaign=campaign, now=now)
    spring = Round.objects.get(campaign=campaign, team=main)
    _agree_and_share(spring, now=now)

    small = Team.objects.get(organisation=organisation, chief__email=SMALL_TEAM_CHIEF_EMAIL)
    in_two_weeks = timezone.localtime(now).replace(hour=16, minute=0, second=0, microsecond=0) + datetime.timedelta(
        days=14
    )
    second, open_links = open_round(team=main, closes_at=in_two_weeks, now=now)
    leader_links = [link for link in open_links if link.role == Role.LEADER]
    for link in leader_links[:4]:
        comment_pool = {theme: list(texts) for theme, texts in DEMO_COMMENTS.items()}
        submit_answers(
            ticket=ticket_for(token_hash=hash_token(link.token)),
            answers=_leader_answers(rng, second, comment_pool=comment_pool),
        )
    chief_link = next(link for link in open_links if link.role == Role.CHIEF)
    return DemoLinks(
        base_url=base_url,
        chief_email=CHIEF_EMAIL,
        admin_email=ADMIN_EMAIL,
        small_team_chief_email=SMALL_TEAM_CHIEF_EMAIL,
        password=DEMO_PASSWORD,
        campaign=campaign,
        closed_report=spring,
        earlier_report=autumn,
        small_team_report=Round.objects.get(campaign=campaign, team=small),
        open_round=second,
        leader_link=f"{base_url}/a/{leader_links[4].token}/",
        chief_link=f"{base_url}/a/{chief_link.token}/",
    )
