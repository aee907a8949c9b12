"""A demo organisation with answers, built through the same services real answers go through.

Running it again replaces the demo organisation, so the printed links are always fresh (tokens
are kept only as hashes and cannot be printed twice).

The demo tells one story, dated from the day it is built: a first round in one management team a
year ago, HR's first campaign for the whole municipality half a year ago (closed, counted, talked
about, with agreements), and HR's second campaign, opened today and closing in two weeks. Every
round is answered while it is open, as real answers are, and then dated back to its place in the
story; only dates change, never what was answered.
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
from gensidig.services.mail.demo_outbox import demo_outbox_on
from gensidig.services.mail.outbox import send_invitations
from gensidig.services.organisation.chart import apply_import, read_chart
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
        "Temadagen om budgettet gav et godt fælles billede af, hvor vi skal hen. Mere af det.",
    ],
    "sparring": [
        "Det kan tage lang tid at få svar i travle perioder, og så står sagerne stille hos os.",
        "Når vi endelig får tid sammen, er sparringen rigtig god.",
    ],
    "strengths": ["Jeg ved ikke, om min chef kender det, jeg er særligt god til."],
    "teamwork": ["Ledermøderne handler næsten kun om drift. Vi taler sjældent om helheden."],
}


# --- The calendar of the story ------------------------------------------------------------------

# Campaigns are named after the season they open in, as HR names them ("Efterår 2026"); a winter
# spans New Year and carries both years ("Vinter 2026/27").
SEASONS = {
    1: ("Vinter", "winter"),
    2: ("Vinter", "winter"),
    3: ("Forår", "spring"),
    4: ("Forår", "spring"),
    5: ("Forår", "spring"),
    6: ("Sommer", "summer"),
    7: ("Sommer", "summer"),
    8: ("Sommer", "summer"),
    9: ("Efterår", "autumn"),
    10: ("Efterår", "autumn"),
    11: ("Efterår", "autumn"),
    12: ("Vinter", "winter"),
}
CLOSING_HOUR = 16


@dataclass(frozen=True)
class Period:
    """When a round or campaign of the story ran: opened on a day, closed at 16:00 on another."""

    opens_on: datetime.date
    closes_on: datetime.date

    @property
    def closes_at(self) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(self.closes_on, datetime.time(CLOSING_HOUR)))

    @property
    def name(self) -> str:
        """The season it opened in, in Danish, as a campaign's name: "Forår 2026", "Vinter 2026/27"."""
        return season_name(self.opens_on)

    @property
    def season(self) -> str:
        """The same in English, for the console: "spring 2026", "winter 2026/27"."""
        return season_name(self.opens_on, english=True)


def season_name(day: datetime.date, *, english: bool = False) -> str:
    danish, name = SEASONS[day.month]
    if name == "winter":
        first = day.year if day.month == 12 else day.year - 1
        year = f"{first}/{(first + 1) % 100:02d}"
    else:
        year = str(day.year)
    return f"{name} {year}" if english else f"{danish} {year}"


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _past_period(today: datetime.date, *, weeks_ago: int) -> Period:
    """A round that opened on a Monday about so many weeks ago and closed on Friday of the week after."""
    opens_on = _monday(today - datetime.timedelta(weeks=weeks_ago))
    return Period(opens_on=opens_on, closes_on=opens_on + datetime.timedelta(days=11))


def _current_period(today: datetime.date) -> Period:
    """The campaign open now: opened today, closing on a weekday two weeks from now."""
    closes_on = today + datetime.timedelta(days=14)
    closes_on -= datetime.timedelta(days=max(0, closes_on.weekday() - 4))  # a Saturday or Sunday: the Friday before
    return Period(opens_on=today, closes_on=closes_on)


@dataclass(frozen=True)
class Story:
    """The demo's calendar, worked out from the day it is built."""

    today: datetime.date
    first_round: Period  # one team on its own, a year ago
    last_campaign: Period  # the whole municipality, half a year ago
    campaign: Period  # the whole municipality, open now

    @classmethod
    def from_today(cls, today: datetime.date) -> Story:
        return cls(
            today=today,
            first_round=_past_period(today, weeks_ago=52),
            last_campaign=_past_period(today, weeks_ago=26),
            campaign=_current_period(today),
        )


@dataclass
class DemoLinks:
    base_url: str
    chief_email: str
    admin_email: str
    small_team_chief_email: str
    password: str
    story: Story
    last_campaign: Campaign
    campaign: Campaign
    closed_report: Round
    earlier_report: Round
    small_team_report: Round
    open_round: Round
    leader_link: str
    chief_link: str
    # Whether the open campaign's invitations went to the demo outbox (when the demo serves).
    invitations_in_outbox: bool

    @property
    def leaders_answered(self) -> int:
        return self.open_round.invitations.filter(role=Role.LEADER, used=True).count()


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
) -> list:
    """Answer for so many of the round's leaders (and its chief); returns the links of those still to answer."""
    links = reissue_links(round_=round_)
    comment_pool = {theme: list(texts) for theme, texts in DEMO_COMMENTS.items()}
    leader_links = [link for link in links if link.role == Role.LEADER]
    for link in leader_links[:leaders]:
        answers = _leader_answers(rng, round_, comment_pool=comment_pool, shift=shift)
        submit_answers(ticket=ticket_for(token_hash=hash_token(link.token)), answers=answers)
    chief_link = next(link for link in links if link.role == Role.CHIEF)
    if chief:
        submit_answers(ticket=ticket_for(token_hash=hash_token(chief_link.token)), answers=_chief_answers(rng, round_))
        return leader_links[leaders:]
    return [*leader_links[leaders:], chief_link]


def _date_rounds(rounds, period: Period) -> None:
    """Move closed rounds to their place in the story (they were answered and counted just now)."""
    Round.objects.filter(pk__in=[round_.pk for round_ in rounds]).update(
        opened_on=period.opens_on, closes_at=period.closes_at, closed_on=period.closes_on
    )


# A year ago the leaders experienced less of these; the campaign half a year ago shows the change.
FIRST_ROUND_SHIFT = {"direction": -0.8, "sparring": -0.6, "strengths": -0.3, "teamwork": 0.2}
# What the team agreed after the first round: (theme, which need, text, owner, status, due three
# months after the round, or never for a standing arrangement).
FIRST_ROUND_AGREEMENTS = [
    (
        "direction",
        0,
        "Mette giver en kort orientering fra direktionen på hvert ledermøde, før nyt når medarbejderne.",
        AgreementOwner.CHIEF,
        AgreementStatus.DONE,
        True,
    ),
    (
        "sparring",
        1,
        "Fast sparringstid hver anden uge med hver leder; aflyses den, finder vi en ny tid samme uge.",
        AgreementOwner.CHIEF,
        AgreementStatus.IN_PROGRESS,
        False,
    ),
    (
        "teamwork",
        0,
        "Hvert andet ledermøde får et tema om helheden i stedet for drift.",
        AgreementOwner.TEAM,
        AgreementStatus.DONE,
        True,
    ),
]


def _first_round(team: Team, rng: random.Random, *, story: Story, now: datetime.datetime) -> Round:
    """The main team's first round, a year ago, on its own, with the agreements made after it."""
    round_, _links = open_round(team=team, closes_at=now + datetime.timedelta(days=1), now=now)
    _answer_round(round_, rng, leaders=round_.leaders_invited, chief=True, shift=FIRST_ROUND_SHIFT)
    round_ = close_round(round_=round_, now=now)
    _date_rounds([round_], story.first_round)
    round_.refresh_from_db()
    themes = {theme.key: theme for theme in framework_for(round_.instrument, "da").themes}
    for theme_key, need, text, owner, status, due in FIRST_ROUND_AGREEMENTS:
        agreement = record_agreement(
            round_=round_,
            theme_key=theme_key,
            text=text,
            owner=owner,
            item_keys=[themes[theme_key].needs[need].key],
            due_on=story.first_round.closes_on + datetime.timedelta(days=90) if due else None,
        )
        update_status(agreement=agreement, status=status)
    return round_


def _last_campaign(organisation: Organisation, rng: random.Random, *, story: Story, now: datetime.datetime) -> Campaign:
    """HR's first campaign, half a year ago: every team answered (all but one leader in the large teams)."""
    campaign = create_campaign(
        organisation=organisation,
        name=story.last_campaign.name,
        root_team=None,
        opens_on=timezone.localdate(now),
        closes_at=now + datetime.timedelta(days=1),
    )
    rounds = launch_campaign(campaign=campaign, now=now)
    # Sent half a year ago, as far as the story goes: nobody is e-mailed now.
    InvitationMail.objects.filter(invitation__round__campaign=campaign).update(status=MailStatus.SENT)
    for round_ in rounds:
        leaders = round_.leaders_invited
        _answer_round(round_, rng, leaders=leaders - (1 if leaders > 5 else 0), chief=True)
    close_campaign(campaign=campaign, now=now)
    period = story.last_campaign
    Campaign.objects.filter(pk=campaign.pk).update(opens_on=period.opens_on, closes_at=period.closes_at)
    _date_rounds(rounds, period)
    campaign.refresh_from_db()
    return campaign


def _agree_and_share(round_: Round, *, story: Story) -> None:
    """The meeting after the last campaign: two agreements, and the report shared with the team a week after it closed.

    One is done; the other (a talk with each leader) is still going on, due by the end of next month.
    """
    themes = {theme.key: theme for theme in framework_for(round_.instrument, "da").themes}
    meeting = story.last_campaign.closes_on + datetime.timedelta(days=7)
    next_month = (story.today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    end_of_next_month = (next_month + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    strengths = record_agreement(
        round_=round_,
        theme_key="strengths",
        owner=AgreementOwner.CHIEF,
        text="Mette holder en samtale med hver leder om, hvad de er særligt gode til, og hvordan det kan bruges bredere.",
        item_keys=[themes["strengths"].needs[0].key],
        due_on=end_of_next_month,
    )
    update_status(agreement=strengths, status=AgreementStatus.IN_PROGRESS)
    helper = Person.objects.get(email=f"leder2@{DEMO_DOMAIN}")
    budget = record_agreement(
        round_=round_,
        theme_key="direction",
        owner=AgreementOwner.LEADER,
        owner_person=helper,
        text="Åse samler de spørgsmål, lederne får fra medarbejderne om budgettet, til næste ledermøde.",
        due_on=meeting + datetime.timedelta(days=30),
    )
    update_status(agreement=budget, status=AgreementStatus.DONE)
    Round.objects.filter(pk=round_.pk).update(shared_on=meeting)


# Of each team's leaders in the campaign open now, how many have answered so far (the rest: none).
ANSWERED_SO_FAR = {CHIEF_EMAIL: 4, f"direktor@{DEMO_DOMAIN}": 2, f"kultur@{DEMO_DOMAIN}": 3, f"leder2@{DEMO_DOMAIN}": 2}


def _current_campaign(
    organisation: Organisation, rng: random.Random, *, story: Story, now: datetime.datetime
) -> tuple[Campaign, bool]:
    """HR's second campaign, opened today: its invitations sent, and the first answers in.

    When the demo serves, the invitations go to its outbox (a page shows them) through the same
    sender as real ones; otherwise they are marked sent without being e-mailed to anyone.
    """
    period = story.campaign
    campaign = create_campaign(
        organisation=organisation,
        name=period.name,
        root_team=None,
        opens_on=period.opens_on,
        closes_at=period.closes_at,
    )
    rounds = launch_campaign(campaign=campaign, now=now)
    in_outbox = demo_outbox_on()
    if in_outbox:
        send_invitations(campaign=campaign)
    else:
        InvitationMail.objects.filter(invitation__round__campaign=campaign).update(status=MailStatus.SENT)
    for round_ in rounds:
        answered = ANSWERED_SO_FAR.get(round_.team.chief.email, 0)
        if answered:
            _answer_round(round_, rng, leaders=answered, chief=False)
    campaign.refresh_from_db()
    return campaign, in_outbox


def build_demo(*, base_url: str, seed: int = 2016, now: datetime.datetime | None = None) -> DemoLinks:
    """Replace the demo municipality: its chart, a year of rounds and campaigns, and a campaign open now.

    `now` is the demo's today (the clock's by default); every date in the story is counted from it.
    """
    rng = random.Random(seed)
    remove_demo()
    now = now or timezone.now()
    story = Story.from_today(timezone.localdate(now))
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
    small = Team.objects.get(organisation=organisation, chief__email=SMALL_TEAM_CHIEF_EMAIL)
    first = _first_round(main, rng, story=story, now=now)
    last_campaign = _last_campaign(organisation, rng, story=story, now=now)
    closed = Round.objects.get(campaign=last_campaign, team=main)
    _agree_and_share(closed, story=story)

    campaign, in_outbox = _current_campaign(organisation, rng, story=story, now=now)
    current = Round.objects.get(campaign=campaign, team=main)
    waiting = reissue_links(round_=current)
    leader_link = next(link for link in waiting if link.role == Role.LEADER)
    chief_link = next(link for link in waiting if link.role == Role.CHIEF)
    return DemoLinks(
        base_url=base_url,
        chief_email=CHIEF_EMAIL,
        admin_email=ADMIN_EMAIL,
        small_team_chief_email=SMALL_TEAM_CHIEF_EMAIL,
        password=DEMO_PASSWORD,
        story=story,
        last_campaign=last_campaign,
        campaign=campaign,
        closed_report=Round.objects.get(pk=closed.pk),
        earlier_report=first,
        small_team_report=Round.objects.get(campaign=last_campaign, team=small),
        open_round=current,
        leader_link=f"{base_url}/a/{leader_link.token}/",
        chief_link=f"{base_url}/a/{chief_link.token}/",
        invitations_in_outbox=in_outbox,
    )
