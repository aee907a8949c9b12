"""A whole campaign in the browser, as HR, leaders and chiefs live it.

HR signs in with a one-time link read from a real SMTP server, imports a chart of 51 people in
four levels saved the way Danish Excel saves it, launches a campaign for the whole organisation,
and the invitations go out over SMTP. Leaders and chiefs answer through the links in their
e-mails (most at service level, two in the browser), HR closes the campaign and reads the
participation and the roll-up, the chief of chiefs reads their branch and nothing beside or above
it, and the chief of a leaf team reads a report the suppression pattern withholds. axe-core runs
on every kind of page on the way.
"""

from __future__ import annotations

import datetime
import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlparse

import pytest
from django.core.management import call_command
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import Locator, Page, Response, expect

from gensidig.models import Campaign, CampaignStatus, Invitation, Round, Team
from gensidig.models.choices import Role
from gensidig.services.access import add_admin
from gensidig.services.signin import send_sign_in_links
from gensidig.services.survey.links import AnswerLink
from gensidig.services.survey.tokens import hash_token

from .. import smtp
from ..factories import answer, answers_for
from .conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)
smtp_server = smtp.smtp_server  # a real SMTP server (aiosmtpd) on a free port, Django's mailer pointed at it

SLUG = "solby"
ADMIN = "hr@solby.dk"
K = 5
THEMES = 6
# A mean or a difference as the pages print it: 3,8 / 3.8 / +0,5 / −1,2
NUMBER = re.compile(r"^[+−-]?\d+[.,]\d$")
SIGN_IN_LINK = re.compile(r"(https?://\S+?/login/link/[A-Za-z0-9_\-]+/)")
ANSWER_LINK = re.compile(r"(https?://\S+?/a/[A-Za-z0-9_\-]{43}/)")

# The chart: (unit, leaders who lead no team, teams below). Every team's chief is one person, a
# leader in the team above; so the chief of "Ældre og Sundhed" leads 5 (2 chiefs and 3 others).
TREE = (
    "Direktionen",
    0,
    [
        ("Ældre og Sundhed", 3, [("Hjemmeplejen Nord", 6, []), ("Plejecentre", 5, [])]),
        ("Børn og Unge", 4, [("Dagtilbud", 6, []), ("Tandplejen", 3, [])]),
        ("Teknik og Miljø", 3, []),
        ("Kultur og Fritid", 5, []),
        ("Social og Beskæftigelse", 6, []),
    ],
)
SMALL_TEAMS = {"Tandplejen", "Teknik og Miljø"}  # 3 leaders each, under k = 5
LEFT_OUT = "Teknik og Miljø"  # HR leaves this small team out; Tandplejen stays in
# How many of a team's leaders never answer, so participation is partial.
SILENT = {"Hjemmeplejen Nord": 1, "Dagtilbud": 1, "Tandplejen": 1, "Kultur og Fritid": 2}
SILENT_CHIEFS = {"Kultur og Fritid"}
BROWSER_LEADER_TEAM = "Hjemmeplejen Nord"  # its first leader answers in the browser
CHIEF_OF_CHIEFS = "Ældre og Sundhed"  # its chief answers in the browser, and later reads the branch
SIBLING = "Børn og Unge"
LEAF = "Dagtilbud"  # 5 of 6 answer, yet the pattern hides it: its sibling Tandplejen is under k
# Each team's leaders lean one way (1-5), so the roll-up's units differ.
MOOD = {
    "Direktionen": 4,
    "Ældre og Sundhed": 4,
    "Hjemmeplejen Nord": 3,
    "Plejecentre": 3,
    "Børn og Unge": 3,
    "Dagtilbud": 4,
    "Tandplejen": 2,
    "Kultur og Fritid": 3,
    "Social og Beskæftigelse": 2,
}

FIRST_NAMES = ["Søren", "Åse", "Bjørn", "Mette", "Jørgen", "Lærke", "Øjvind", "Kirsten", "Ærtebjørn", "Grethe"]
LAST_NAMES = ["Ærø", "Østergård", "Mølgaard", "Nørregaard", "Kjærsgaard", "Løkke"]
ASCII = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", " ": "-"})


# --- The organisation -------------------------------------------------------------------------


@dataclass
class TeamSpec:
    unit: str
    chief: str
    parent: str | None
    leaders: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)


@dataclass
class Chart:
    rows: list[tuple[str, str, str, str]]  # e-mail, name, manager's e-mail, unit
    teams: dict[str, TeamSpec]

    @property
    def names(self) -> dict[str, str]:
        return {email: name for email, name, _manager, _unit in self.rows}

    def csv(self) -> bytes:
        """The chart as Danish Excel saves "CSV (semikolonsepareret)": Danish headers, `;`, CRLF, cp1252."""
        lines = ["e-mail;navn;leder;enhed", *(";".join(row) for row in self.rows)]
        return ("\r\n".join(lines) + "\r\n").encode("cp1252")

    def included(self) -> list[TeamSpec]:
        return [team for team in self.teams.values() if team.unit != LEFT_OUT]

    def depth(self, unit: str) -> int:
        parent = self.teams[unit].parent
        return 0 if parent is None else self.depth(parent) + 1

    def answering(self, unit: str) -> int:
        return len(self.teams[unit].leaders) - SILENT.get(unit, 0)


def build_chart() -> Chart:
    names = iter(f"{first} {last}" for last in LAST_NAMES for first in FIRST_NAMES)
    rows: list[tuple[str, str, str, str]] = []
    teams: dict[str, TeamSpec] = {}

    def address(prefix: str, unit: str) -> str:
        return f"{prefix}{unit.lower().translate(ASCII)}@solby.dk"

    def walk(node, manager: str, parent: str | None) -> str:
        unit, plain, below = node
        chief = address("chef-", unit)
        rows.append((chief, next(names), manager, unit))
        team = teams[unit] = TeamSpec(unit=unit, chief=chief, parent=parent)
        for child in below:
            team.leaders.append(walk(child, chief, unit))
            team.children.append(child[0])
        for number in range(1, plain + 1):
            leader = address(f"leder{number}-", unit)
            rows.append((leader, next(names), chief, unit))
            team.leaders.append(leader)
        return chief

    walk(TREE, "", None)
    return Chart(rows=rows, teams=teams)


CHART = build_chart()


# --- Small helpers ----------------------------------------------------------------------------


def da(message: str, **values) -> str:
    """A message as the Danish pages show it (in English where it is not translated yet)."""
    with translation.override("da"):
        text = gettext(message)
    return text % values if values else text


def label(choice) -> str:
    with translation.override("da"):
        return str(choice.label)


def click_and_wait(page: Page, locator: Locator) -> Response:
    with page.expect_navigation() as navigation:
        locator.click()
    return navigation.value


def submit(page: Page) -> Response:
    return click_and_wait(page, page.locator("main form button[type=submit]").last)


def path(page: Page) -> str:
    return urlparse(page.url).path


def facts(page: Page) -> dict[str, str]:
    """The page's fact list (<dl class="gs-facts">) as {term: value}."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('main .gs-facts dt')].map(
            (dt) => [dt.textContent.trim(), dt.nextElementSibling.textContent.trim().replace(/\\s+/g, ' ')]))"""
    )


def table_rows(page: Page, selector: str) -> list[dict]:
    """Each body row of a table: its header cell's text and link, and each cell's text or None if withheld."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector + ' tbody tr')].map((tr) => {
            const th = tr.querySelector('th');
            return {
                label: th ? th.textContent.trim().replace(/\\s+/g, ' ') : '',
                link: th && th.querySelector('a') ? th.querySelector('a').getAttribute('href') : null,
                depth: th && th.querySelector('.gs-depth') ?
                    Number([...th.querySelector('.gs-depth').classList].find((c) => /^gs-depth-\\d+$/.test(c)).slice(9)) : null,
                cells: [...tr.querySelectorAll('td')].map((td) => td.querySelector('.gs-withheld') ? null :
                    (td.querySelector('.gs-heat-value') || td).textContent.trim().replace(/\\s+/g, ' ')),
            };
        })""",
        selector,
    )


def of(answered: int, invited: int) -> str:
    return da("%(answered)s of %(invited)s", answered=answered, invited=invited)


# --- Signing in with a link from the e-mail ---------------------------------------------------


def sign_in_with_link(
    page: Page, server: smtp.SmtpServer, email: str, *, check_with: Callable[[], Page] | None = None
) -> None:
    """Ask for a one-time link, run the sender, read the link from the SMTP server, open it and press its button.

    With `check_with` (a maker of fresh pages), also run axe on every page of the way, and check
    that the used link does not work again.
    """
    check = check_with is not None
    page.goto("/login/link/")
    expect(page.locator("h1")).to_have_text(da("Get a sign-in link"))
    if check:
        assert_accessible(page)
    before = len(server.to(email))
    page.locator("#id_email").fill(email)
    response = submit(page)
    assert response.status == 200
    expect(page.locator("h1")).to_have_text(da("Check your e-mail"))
    if check:
        assert_accessible(page)

    # The form only queues the request; the sender (`gensidig send-mail`) e-mails the link.
    assert len(server.to(email)) == before, "the form sent the e-mail itself"
    send_sign_in_links()
    mails = server.to(email)
    assert len(mails) == before + 1, f"no sign-in e-mail reached {email}"
    mail = mails[-1]
    assert mail.subject == da("Your sign-in link for Gensidig")
    (url,) = set(SIGN_IN_LINK.findall(mail.text))
    assert url in mail.html
    assert urlparse(url).netloc == urlparse(page.url).netloc  # SITE_URL: this very server

    # Opening the link (as a mail scanner would) only shows a button; pressing it signs in.
    page.goto(url)
    expect(page.locator("header form[action='/logout/']")).to_have_count(0)
    if check:
        assert_accessible(page)
    submit(page)
    assert path(page) == "/"
    expect(page.locator("header form[action='/logout/']")).to_have_count(1)
    if check:
        assert_accessible(page)  # My page
        # The link worked once; pressing it again, even in a fresh browser, gets the neutral page.
        again = check_with()
        again.goto(url)
        assert submit(again).status == 404
        expect(again.locator("h1")).to_have_text(da("This link cannot be used"))
        assert_accessible(again)


# --- Answering in the browser ------------------------------------------------------------------


def go(page: Page, action: str) -> Response:
    """Press the answer form's next / back / send button and wait for the page it leads to."""
    with page.expect_navigation() as navigation:
        page.locator(f"button[name=action][value={action}]").click()
    return navigation.value


def choose(page: Page, name: str, value: int) -> None:
    """Click the answer's label at its right end, where the design system's drawn radio does not cover it."""
    target = page.locator(f'.form-group-radio:has(> input[name="{name}"][value="{value}"]) > label')
    box = target.bounding_box()
    target.click(position={"x": box["width"] - 4, "y": box["height"] / 2})


def answer_in_browser(page: Page, url: str, pick: Callable[[int, int], int]) -> None:
    """Open an invitation link and answer every theme, from the intro page to the thank-you page (axe on each kind)."""
    page.goto(url)
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert path(page) == "/answer/" and token not in page.url
    expect(page.locator("main > h2 + ul").first).to_contain_text(str(K))  # k is told before anything is asked
    assert_accessible(page)
    go(page, "next")
    for number in range(1, THEMES + 1):
        assert int(page.locator("form input[name=step]").input_value()) == number
        names: list[str] = []
        for radio in page.locator(".gs-answer-form input[type=radio]").all():
            if radio.get_attribute("name") not in names:
                names.append(radio.get_attribute("name"))
        assert names, "a theme page without questions"
        for index, name in enumerate(names):
            choose(page, name, pick(number, index))
        if number == 1:
            assert_accessible(page)
        response = go(page, "send" if number == THEMES else "next")
    assert response.status == 200
    assert path(page) == "/answer/thanks/"
    assert_accessible(page)


# --- The phases of a campaign ----------------------------------------------------------------


def hr_imports_the_chart(hr: Page, chart: Chart) -> None:
    """Upload the Danish Excel CSV, read the preview, apply it, and see the teams and people it made."""
    teams = chart.teams
    click_and_wait(hr, hr.locator(f'header nav a[href="/org/{SLUG}/"]'))
    assert_accessible(hr)
    click_and_wait(hr, hr.locator(f'main a.button[href="/org/{SLUG}/import/"]'))
    assert_accessible(hr)
    hr.locator("#id_chart").set_input_files(
        files=[{"name": "organisationsdiagram.csv", "mimeType": "text/csv", "buffer": chart.csv()}]
    )
    response = submit(hr)
    assert response.status == 200 and path(hr).startswith(f"/org/{SLUG}/import/")
    assert_accessible(hr)
    plan = facts(hr)
    assert plan[da("New people")] == str(len(chart.rows)) == "51"
    assert plan[da("Teams formed")] == str(len(teams)) == "10"
    assert plan[da("Leaving")] == "0" and plan[da("Changed")] == "0"
    formed = hr.locator("main h2", has_text=da("Teams formed")).locator("xpath=following-sibling::ul[1]/li")
    expect(formed).to_have_count(len(teams))
    expect(formed.filter(has_text="Tandplejen")).to_contain_text("Børn og Unge")  # and under which team
    expect(hr.locator("main")).to_contain_text("Ærtebjørn Ærø")  # æøå survived cp1252

    click_and_wait(hr, hr.locator("main form button[type=submit]"))
    assert path(hr) == f"/org/{SLUG}/teams/"
    expect(hr.locator(".gs-messages [role=status]")).to_have_count(1)
    assert_accessible(hr)
    rows = table_rows(hr, "main table")
    assert {row["label"]: row["depth"] for row in rows} == {unit: chart.depth(unit) for unit in teams}
    for index, row in enumerate(rows):  # from the top down: every team below its parent, in its subtree
        parent = teams[row["label"]].parent
        if parent is not None:
            above = [r["label"] for r in rows[:index] if r["depth"] == row["depth"] - 1]
            assert above[-1] == parent, (row["label"], above)
    flagged = {row["label"] for row in rows if da("under the threshold") in row["cells"][1]}
    assert flagged == SMALL_TEAMS

    click_and_wait(hr, hr.locator(f'main nav a[href="/org/{SLUG}/people/"]'))
    assert_accessible(hr)
    hr.locator("#people-q").fill("Ærø")
    click_and_wait(hr, hr.locator("form[role=search] button[type=submit]"))
    expected = sorted(name for name in chart.names.values() if "Ærø" in name)
    assert sorted(row["label"] for row in table_rows(hr, "main table")) == expected


def hr_launches_a_campaign(hr: Page, chart: Chart) -> tuple[Campaign, dict[str, Round]]:
    """Create a campaign for the whole organisation, read the preview, leave one small team out, launch."""
    teams = chart.teams
    click_and_wait(hr, hr.locator(f'main nav a[href="/org/{SLUG}/campaigns/"]'))
    assert_accessible(hr)
    click_and_wait(hr, hr.locator(f'main a[href="/org/{SLUG}/campaigns/new/"]'))
    assert_accessible(hr)
    hr.locator("#id_name").fill("Gensidig forår")
    expect(hr.locator("#id_branch")).to_have_value("")  # the whole organisation
    hr.locator("#id_closes_on").fill((timezone.localdate() + datetime.timedelta(days=14)).isoformat())
    assert submit(hr).status == 200
    campaign = Campaign.objects.get(organisation__slug=SLUG)
    campaign_url = f"/org/{SLUG}/campaigns/{campaign.public_id}/"
    assert path(hr) == campaign_url and campaign.status == CampaignStatus.DRAFT
    assert_accessible(hr)
    assert facts(hr)[da("Anonymity threshold")].startswith(str(K))
    small = hr.locator("main fieldset .form-group-checkbox label")
    expect(small).to_have_count(len(SMALL_TEAMS))
    assert {text.split(" (")[0] for text in small.all_inner_texts()} == SMALL_TEAMS
    explanation = hr.locator("main fieldset").locator("xpath=preceding-sibling::p[1]")
    expect(explanation).to_contain_text(str(K))  # what k means, before HR decides
    expect(hr.locator("#preview-caption ~ tbody tr")).to_have_count(len(teams))
    expect(hr.locator("main table .gs-flag")).to_have_count(len(SMALL_TEAMS))

    left_out = Team.objects.get(organisation__slug=SLUG, name=LEFT_OUT)
    hr.locator(f'label[for="leave-out-{left_out.pk}"]').click()
    expect(hr.locator(f"#leave-out-{left_out.pk}")).to_be_checked()
    expect(hr.locator(".form-group-checkbox input:checked")).to_have_count(1)  # Tandplejen stays in
    click_and_wait(hr, hr.locator(f'form[action="{campaign_url}launch/"] button[type=submit]'))
    assert path(hr) == campaign_url
    rounds = {r.team.name: r for r in Round.objects.filter(campaign=campaign).select_related("team")}
    assert set(rounds) == {team.unit for team in chart.included()}
    assert len(rounds) == len(teams) - 1 == 9
    expect(hr.locator(".gs-messages [role=status]")).to_contain_text("9")
    return campaign, rounds


def invitations_go_out(hr: Page, server: smtp.SmtpServer, chart: Chart) -> list[smtp.Received]:
    """Run the server's send_mail job; the open campaign page follows it, and each person gets their e-mails."""
    invited = sum(len(team.leaders) + 1 for team in chart.included())
    assert invited == 56
    progress = hr.locator("#mail-progress")
    expect(progress).to_contain_text(da("%(sent)s of %(total)s invitations sent.", sent=0, total=invited))
    before = len(server.received)
    call_command("send_mail", stdout=io.StringIO(), stderr=io.StringIO())
    # The page polls (htmx) while anything waits, and stops when nothing does.
    expect(progress).to_contain_text(
        da("%(sent)s of %(total)s invitations sent.", sent=invited, total=invited), timeout=10_000
    )
    expect(hr.locator("#mail-progress[hx-trigger]")).to_have_count(0)
    assert facts(hr)[da("Status")] == label(CampaignStatus.OPEN)
    assert_accessible(hr)

    invitations = server.received[before:]
    assert len(invitations) == invited
    expected_count, expected_subjects = Counter(), set()
    for team in chart.included():
        expected_count[team.chief] += 1
        expected_subjects.add((team.chief, f"Din del af undersøgelsen for {team.unit}"))
        for leader in team.leaders:
            expected_count[leader] += 1
            expected_subjects.add((leader, f"Hvad har du brug for fra din chef? ({team.unit})"))
    # One e-mail per round each person takes part in: a middle manager gets two, the left-out team's leaders none.
    assert Counter(mail.to for mail in invitations) == expected_count
    assert expected_count[chart.teams[CHIEF_OF_CHIEFS].chief] == 2
    assert not set(chart.teams[LEFT_OUT].leaders) & set(expected_count)
    assert {(mail.to, mail.subject) for mail in invitations} == expected_subjects  # in Danish, for Danes
    assert all('lang="da"' in mail.html for mail in invitations)
    return invitations


def everyone_answers(invitations: list[smtp.Received], chart: Chart, new_page, site_url: str) -> dict[str, int]:
    """Answer through each e-mail's link: two in the browser, most at service level, some never.

    Returns how many leaders answered in each team.
    """
    teams = chart.teams
    silent = {email for unit, n in SILENT.items() for email in teams[unit].leaders[-n:]}
    in_browser = {(Role.LEADER, teams[BROWSER_LEADER_TEAM].leaders[0]), (Role.CHIEF, teams[CHIEF_OF_CHIEFS].chief)}
    browser_links: dict[str, str] = {}
    rounds: set[str] = set()
    for number, mail in enumerate(invitations):
        (url,) = set(ANSWER_LINK.findall(mail.text))
        assert url == f"{site_url}/a/{mail.token}/" and url in mail.html
        invitation = Invitation.objects.select_related("round__team", "person").get(
            tokens__token_hash=hash_token(mail.token)
        )
        assert invitation.person.email == mail.to and not invitation.used
        round_, role, unit = invitation.round, invitation.role, invitation.round.team.name
        rounds.add(unit)
        assert (role == Role.CHIEF) == (mail.to == teams[unit].chief)
        if (role, mail.to) in in_browser:
            browser_links[role] = url
        elif not ((role == Role.LEADER and mail.to in silent) or (role == Role.CHIEF and unit in SILENT_CHIEFS)):
            mood = MOOD[unit]
            values = answers_for(round_, role, lambda key, scale, n=number, m=mood: m + (len(key) + n) % 3 - 1)
            answer(AnswerLink(person=None, role=role, token=mail.token), values)

    answer_in_browser(new_page(), browser_links[Role.LEADER], lambda step, index: (step + index) % 5 + 1)
    answer_in_browser(new_page(), browser_links[Role.CHIEF], lambda step, index: (step * 2 + index) % 5 + 1)

    answered = {unit: chart.answering(unit) for unit in rounds}
    used = Counter(
        Invitation.objects.filter(round__team__name__in=rounds, role=Role.LEADER, used=True).values_list(
            "round__team__name", flat=True
        )
    )
    assert used == {unit: n for unit, n in answered.items() if n}
    assert answered[LEAF] == K and answered["Tandplejen"] < K and answered["Kultur og Fritid"] < K
    return answered


def hr_closes_the_campaign(hr: Page, campaign: Campaign, chart: Chart, answered: dict[str, int]) -> None:
    """Close from the campaign page and read participation: counts only, small groups not shown."""
    teams = chart.teams
    campaign_url = f"/org/{SLUG}/campaigns/{campaign.public_id}/"
    hr.goto(campaign_url)
    expect(hr.locator("#participation-caption ~ tbody .gs-withheld").first).to_be_visible()  # already while open
    close = hr.locator(f'form[action="{campaign_url}close/"] button[type=submit]')
    expect(close).to_have_text(da("Close the campaign now"))
    click_and_wait(hr, close)
    assert path(hr) == campaign_url
    expect(hr.locator(".gs-messages [role=status]")).to_have_count(1)
    assert facts(hr)[da("Status")] == label(CampaignStatus.CLOSED)
    assert_accessible(hr)

    total_invited = sum(len(teams[unit].leaders) for unit in answered)
    total_answered = sum(answered.values())
    assert (total_answered, total_invited) == (42, 47)
    expect(hr.locator("main p.font-lead")).to_have_text(
        da("%(answered)s of %(invited)s leaders have answered.", answered=total_answered, invited=total_invited)
    )
    participation = {row["label"]: row["cells"] for row in table_rows(hr, "table:has(> #participation-caption)")}
    assert set(participation) == set(answered)  # the team left out is not in it
    assert participation["Direktionen"][1] == of(total_answered, total_invited)  # the whole organisation
    assert participation["Hjemmeplejen Nord"] == [of(5, 6), of(5, 6)]
    for unit in ("Tandplejen", "Kultur og Fritid"):  # fewer than k answered: never shown
        assert participation[unit] == [None, None], unit
    assert sum(cells.count(None) for cells in participation.values()) > 4  # and whatever would give them away


def hr_reads_the_roll_up(
    hr: Page, campaign: Campaign, chart: Chart, answered: dict[str, int], rounds: dict[str, Round]
) -> dict[str, list[str | None]]:
    """Open the roll-up from the campaign page and drill down one level; returns that level's cells."""
    teams = chart.teams
    click_and_wait(hr, hr.locator(f'main a[href="/campaigns/{campaign.public_id}/rollup/"]'))
    top = Team.objects.get(organisation__slug=SLUG, name="Direktionen")
    assert path(hr) == f"/campaigns/{campaign.public_id}/rollup/{top.public_id}/"
    assert_accessible(hr)
    heat = {row["label"]: row for row in table_rows(hr, "table.gs-heatmap")}
    whole = heat[da("%(unit)s, all together", unit="Direktionen")]
    assert all(NUMBER.match(cell) for cell in whole["cells"][:THEMES]), whole
    assert whole["cells"][THEMES] == of(sum(answered.values()), sum(len(teams[unit].leaders) for unit in answered))
    own_top = heat[da("%(unit)s: the team itself", unit="Direktionen")]
    assert own_top["cells"][:THEMES] == [None] * THEMES  # the complement of Kultur og Fritid's hidden cell
    assert heat["Kultur og Fritid"]["cells"] == [None] * (THEMES + 1)
    assert all(NUMBER.match(cell) for cell in heat["Social og Beskæftigelse"]["cells"][:THEMES])
    assert heat["Social og Beskæftigelse"]["cells"][:THEMES] != heat[CHIEF_OF_CHIEFS]["cells"][:THEMES]
    assert LEFT_OUT not in heat
    drill = {label: row["link"] for label, row in heat.items() if row["link"]}
    assert set(drill) == {unit for unit in teams["Direktionen"].children if teams[unit].children}

    click_and_wait(hr, hr.locator(f'table.gs-heatmap a[href="{drill[CHIEF_OF_CHIEFS]}"]'))
    assert_accessible(hr)
    up = f"/campaigns/{campaign.public_id}/rollup/{top.public_id}/"
    expect(hr.locator(".gs-breadcrumb a")).to_have_attribute("href", up)
    branch = {row["label"]: row["cells"] for row in table_rows(hr, "table.gs-heatmap")}
    for unit in teams[CHIEF_OF_CHIEFS].children:
        assert all(NUMBER.match(cell) for cell in branch[unit][:THEMES]), unit
        assert branch[unit][THEMES] == of(answered[unit], len(teams[unit].leaders))
    # HR sees counts and roll-ups, never a team's own report.
    assert hr.goto(f"/rounds/{rounds[CHIEF_OF_CHIEFS].public_id}/report/").status == 404
    return branch


def chief_of_chiefs_reads_their_branch(
    boss: Page, campaign: Campaign, chart: Chart, rounds: dict[str, Round], answered, branch
) -> None:
    """My page, the branch's roll-up (the same cells HR saw), nothing above or beside, and their own report."""
    expect(boss.locator("h1")).to_have_text(da("My page"))
    assert_accessible(boss)
    rollup_link = boss.locator(f'#rollups-heading ~ ul a[href="/campaigns/{campaign.public_id}/rollup/"]')
    expect(rollup_link).to_have_text(campaign.name)
    own_round = rounds[CHIEF_OF_CHIEFS]
    report_link = boss.locator(f'main a[href="/rounds/{own_round.public_id}/report/"]')
    expect(report_link).to_have_count(1)
    expect(boss.locator('main a[href$="/report/"]')).to_have_count(1)  # only their own team's report
    expect(boss.locator("#joined-heading ~ ul")).to_contain_text("Direktionen")  # where they are a leader

    click_and_wait(boss, rollup_link)
    mine = Team.objects.get(organisation__slug=SLUG, name=CHIEF_OF_CHIEFS)
    assert path(boss) == f"/campaigns/{campaign.public_id}/rollup/{mine.public_id}/"
    assert_accessible(boss)
    expect(boss.locator(".gs-breadcrumb")).to_have_count(0)  # no way up
    assert {row["label"]: row["cells"] for row in table_rows(boss, "table.gs-heatmap")} == branch
    for unit in ("Direktionen", SIBLING):
        other = Team.objects.get(organisation__slug=SLUG, name=unit)
        assert boss.goto(f"/campaigns/{campaign.public_id}/rollup/{other.public_id}/").status == 404, unit
    assert boss.goto(f"/rounds/{rounds['Direktionen'].public_id}/report/").status == 404
    assert_accessible(boss)  # the not-found page too

    boss.goto("/")
    click_and_wait(boss, report_link)
    assert_accessible(boss)
    leaders = len(chart.teams[CHIEF_OF_CHIEFS].leaders)
    assert facts(boss)[da("Leaders who answered")] == of(answered[CHIEF_OF_CHIEFS], leaders)
    overview = boss.locator("table.gs-figures").first
    expect(overview.locator("tbody tr")).to_have_count(THEMES)
    expect(overview.locator(".gs-withheld")).to_have_count(0)
    for row in overview.locator("tbody tr").all():
        cells = row.locator("td").all_inner_texts()
        assert all(NUMBER.match(cell.strip()) for cell in cells[:4]), cells  # importance, experience, gap, own


def leaf_chief_reads_a_withheld_report(leaf: Page, chart: Chart, rounds: dict[str, Round], answered) -> None:
    """5 of 6 answered, but the one pattern hides the team to protect its small sibling: notes, not figures."""
    expect(leaf.locator("#rollups-heading")).to_have_count(0)  # no teams below: no roll-up
    click_and_wait(leaf, leaf.locator(f'main a[href="/rounds/{rounds[LEAF].public_id}/report/"]'))
    assert_accessible(leaf)
    assert facts(leaf)[da("Leaders who answered")] == of(answered[LEAF], len(chart.teams[LEAF].leaders))
    overview = leaf.locator("table.gs-figures").first.locator("tbody tr")
    expect(overview).to_have_count(THEMES)
    for row in overview.all():
        cells = row.locator("td")
        # Enough answered: the page says the pattern hides it to protect a smaller group, not "too few".
        expect(cells.first.locator(".gs-withheld")).to_have_text(da("Not shown, to protect a smaller group"))
        assert NUMBER.match(cells.nth(1).inner_text().strip())  # the chief's own answers still show
    expect(leaf.locator("#chart-overview circle.series-experience")).to_have_count(0)


# --- The test ---------------------------------------------------------------------------------


def test_a_whole_campaign_from_the_org_chart_to_the_roll_ups(new_page, live_server, settings, smtp_server):
    settings.SITE_URL = live_server.url  # the links in the e-mails lead here
    add_admin(email=ADMIN, organisation_slug=SLUG, organisation_name="Solby Kommune")
    chart = CHART
    assert len(chart.rows) == 51 and max(chart.depth(unit) for unit in chart.teams) == 2  # four levels of people

    hr = new_page()
    sign_in_with_link(hr, smtp_server, ADMIN, check_with=new_page)
    hr_imports_the_chart(hr, chart)
    campaign, rounds = hr_launches_a_campaign(hr, chart)
    invitations = invitations_go_out(hr, smtp_server, chart)
    answered = everyone_answers(invitations, chart, new_page, live_server.url)
    hr_closes_the_campaign(hr, campaign, chart, answered)
    branch = hr_reads_the_roll_up(hr, campaign, chart, answered, rounds)

    boss = new_page()
    sign_in_with_link(boss, smtp_server, chart.teams[CHIEF_OF_CHIEFS].chief)
    chief_of_chiefs_reads_their_branch(boss, campaign, chart, rounds, answered, branch)

    leaf = new_page()
    sign_in_with_link(leaf, smtp_server, chart.teams[LEAF].chief)
    leaf_chief_reads_a_withheld_report(leaf, chart, rounds, answered)
