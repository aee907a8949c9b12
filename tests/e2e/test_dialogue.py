"""From the report to the conversation, in the browser: the meeting guide, meeting mode, agreements, sharing.

The chief walks from My page to the report, the guide and meeting mode (by keyboard and by link),
writes down an agreement and shares the report; a leader signs in with a link from their e-mail
and reads the shared report; meeting mode works without JavaScript; a team under the anonymity
threshold gets the guide without leaders' figures. axe-core runs on every page on the way.

Texts are compared with the message catalogue (gettext under the page's language), never
hard-coded, so the tests follow the translations as they are written.
"""

from __future__ import annotations

import datetime
import itertools
import re
from urllib.parse import urlparse

import pytest
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import Locator, Page, expect

from gensidig.models import AgreementStatus, Person
from gensidig.models.choices import Role
from gensidig.services.agreements import record_agreement
from gensidig.services.signin import send_sign_in_links
from gensidig.services.survey.closing import close_round

from ..factories import CHIEF_PASSWORD, answer, answers_for, chief_link, leader_links, make_team, start_round
from .conftest import assert_accessible
from .test_report import click_and_wait, report_path, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

FOCUS = "direction"  # the theme the leaders' answers make stand out
COMMENT = "Vi mangler retning fra direktionen – især om budgettet."
AGREEMENT = "Chefen fortæller på hvert ledermøde, hvad der er besluttet i direktionen, og hvorfor."
DUE = datetime.date(2027, 3, 1)
SIGN_IN_LINK = re.compile(r"https?://\S+?(/login/link/[A-Za-z0-9_\-]+/)")
AGENDA_TIME = re.compile(r"^(\d+):(\d\d)–(\d+):(\d\d)$")
DANISH_NUMBER = re.compile(r"^[+−]?\d+,\d$")  # a mean or a difference as the Danish pages print it: 3,8 / −1,2
NO_RANKING = (
    "Too few leaders answered to rank the themes; these are the themes where your own assessment was lowest. "
    "You can choose others above."
)


def da(message: str) -> str:
    with translation.override("da"):
        return gettext(message)


def in_danish(text) -> str:
    """A lazy text (a choice's label) as the Danish pages show it."""
    with translation.override("da"):
        return str(text)


def danish_date(date: datetime.date) -> str:
    with translation.override("da"):
        return dateformat.format(date, "j. F Y")


def path(page: Page) -> str:
    return urlparse(page.url).path


def leader_values(number: int):
    """A clear focus theme: leaders find direction very important (4-5) and get little of it (2-3)."""

    def value(key: str, scale: str) -> int:
        if not key.startswith(f"{FOCUS}."):
            return 4
        if scale == "importance":
            return 4 if number % 3 == 0 else 5
        return 3 if number == 0 else 2

    return value


def round_with_a_focus_theme(team, *, answering: int = 6):
    """A closed round of `team` where `answering` leaders answered, one with a comment on the focus theme."""
    round_, links = start_round(team)
    for number, link in enumerate(leader_links(links)[:answering]):
        comments = {FOCUS: COMMENT} if number == 0 else {}
        answer(link, answers_for(round_, Role.LEADER, leader_values(number), comments))
    answer(chief_link(links), answers_for(round_, Role.CHIEF, 4))
    return close_round(round_=round_)


def guide_path(round_) -> str:
    return f"/rounds/{round_.public_id}/guide/"


def present_path(round_, step: int | None = None) -> str:
    return f"{guide_path(round_)}present/" + (f"{step}/" if step else "")


def agenda_minutes(page: Page) -> list[tuple[int, int]]:
    """The agenda's time boxes as (start, end) in minutes from the start of the meeting."""
    boxes = []
    for text in page.locator(".gs-agenda .gs-agenda-time").all_inner_texts():
        match = AGENDA_TIME.match(text.strip())
        assert match, f"not a time box: {text!r}"
        h1, m1, h2, m2 = map(int, match.groups())
        boxes.append((h1 * 60 + m1, h2 * 60 + m2))
    return boxes


def assert_agenda_adds_up(page: Page, *, items: int, total: int) -> None:
    """Each time box starts where the one before ended, from 0:00 to the format's total."""
    expect(page.locator(".gs-agenda > li")).to_have_count(items)
    boxes = agenda_minutes(page)
    assert boxes[0][0] == 0
    for (_, end), (start, _) in itertools.pairwise(boxes):
        assert start == end, boxes
    assert all(end > start for start, end in boxes), boxes
    assert boxes[-1][1] == total, boxes


def font_px(locator: Locator) -> float:
    return locator.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")


def line_height_px(locator: Locator) -> float:
    return locator.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")


def press_and_wait(page: Page, key: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


def figures(table: Locator) -> list[list[str]]:
    """A table's data cells, row by row, as shown."""
    return [[cell.strip() for cell in row.locator("td").all_inner_texts()] for row in table.locator("tbody tr").all()]


def assert_no_leader_figures(page: Page) -> None:
    """No chart draws a leaders' mean or gap, and no sentence quotes one (the tables: assert_too_few_shown)."""
    charts = page.locator("figure.gs-chart svg[role=img]")  # not the legends' icons
    expect(charts.locator(".series-importance")).to_have_count(0)
    expect(charts.locator(".series-experience")).to_have_count(0)
    expect(charts.locator(".series-leaders-fulfilment")).to_have_count(0)
    expect(charts.locator(".chart-gap")).to_have_count(0)
    expect(page.locator(".gs-reasons")).to_have_count(0)


def sign_in_with_link(page: Page, mailoutbox, email: str) -> None:
    """Ask for a one-time link, run the sender, read the link from the e-mail (Django's locmem
    outbox: the sender runs in this thread), open it and press its button."""
    page.goto("/login/link/")
    assert_accessible(page)
    page.locator("#id_email").fill(email)
    before = len(mailoutbox)
    click_and_wait(page, page.locator("main form button[type=submit]"))
    assert_accessible(page)
    # The form only queues the request; the sender (`gensidig send-mail`) e-mails the link.
    assert len(mailoutbox) == before, "the form sent the e-mail itself"
    send_sign_in_links()
    assert len(mailoutbox) == before + 1, f"no sign-in e-mail for {email}"
    mail = mailoutbox[-1]
    assert mail.to == [email]
    (link_path,) = set(SIGN_IN_LINK.findall(mail.body))
    page.goto(link_path)  # on this live server, whatever SITE_URL says
    assert_accessible(page)
    click_and_wait(page, page.locator("main form button[type=submit]"))
    assert path(page) == "/"


# --- 1. The chief's walk --------------------------------------------------------------------


def test_the_chief_prepares_and_holds_the_meeting_writes_down_an_agreement_and_shares(page):
    team = make_team(leaders=8)
    round_ = round_with_a_focus_theme(team)
    report = report_path(round_)
    owner = Person.objects.filter(invitations__round=round_, invitations__role=Role.LEADER).order_by("name").first()

    sign_in(page, team.chief.email, CHIEF_PASSWORD)
    assert path(page) == "/"
    assert_accessible(page)
    click_and_wait(page, page.locator(f'main a[href="{report}"]'))
    assert_accessible(page)
    focus_link = page.locator(".gs-focus > li h3 a").first
    expect(focus_link).to_have_attribute("href", f"{report}{FOCUS}/")
    focus_title = focus_link.inner_text().strip()

    # The meeting guide, from the report's toolbar: two hours, the report's focus themes.
    click_and_wait(page, page.locator(f'.gs-toolbar a[href="{guide_path(round_)}"]'))
    assert path(page) == guide_path(round_)
    assert_accessible(page)
    assert_agenda_adds_up(page, items=6, total=120)  # welcome, differences, 2 themes, agreements, round-up
    expect(page.locator(".gs-agenda > li").nth(2)).to_contain_text(focus_title)
    expect(page.locator(f"#guide-theme-{FOCUS}")).to_contain_text(focus_title)
    expect(page.locator(f"#chart-needs-{FOCUS}[role=img]")).to_have_count(1)
    expect(page.locator(f"#guide-theme-{FOCUS} ~ .gs-reasons li")).not_to_have_count(0)  # why it is a focus theme
    expect(page.locator("body")).not_to_contain_text(COMMENT)

    # A half-day seminar about three themes of the chief's choice: a break, and three and a half hours.
    page.locator("details.gs-details > summary").click()
    page.locator("input[name=format][value=half_day]").check()
    chosen = [FOCUS, "teamwork", "communication"]
    for key in chosen:
        page.locator(f"input[name=themes][value={key}]").check()
    click_and_wait(page, page.locator("details.gs-details form button[type=submit]"))
    assert path(page) == guide_path(round_)
    expect(page.locator(".gs-messages [role=status]")).to_have_count(1)
    assert_accessible(page)
    assert_agenda_adds_up(page, items=8, total=210)  # welcome, differences, 3 themes, break, agreements, round-up
    expect(page.locator(".gs-agenda > li").nth(4)).to_contain_text(da("Break"))  # between the 2nd and 3rd theme
    expect(page.locator("section[aria-labelledby^=guide-theme-]")).to_have_count(3)
    for key in chosen:
        expect(page.locator(f"#chart-needs-{key}[role=img]")).to_have_count(1)
    guide_item_size = font_px(page.locator(f"#guide-theme-{FOCUS} ~ .gs-guide-columns li").first)

    # Meeting mode: a screen per step. The keyboard moves between them (arrows, and the Page keys
    # a presentation clicker sends), as do the links.
    click_and_wait(page, page.locator(f'main a[href="{present_path(round_)}"]'))
    assert path(page) == present_path(round_)
    assert_accessible(page)
    expect(page.locator("#gs-prev")).to_have_count(0)
    expect(page.locator("#gs-fullscreen")).to_be_visible()  # Chromium can go full screen
    lead = page.locator("main .gs-present-lead")
    assert line_height_px(lead) >= 1.2 * font_px(lead)  # large type with room between the lines, not overlapping
    press_and_wait(page, "ArrowRight")
    assert path(page) == present_path(round_, 2)
    assert_accessible(page)
    press_and_wait(page, "ArrowLeft")
    assert path(page) == present_path(round_, 1)
    press_and_wait(page, "PageDown")
    press_and_wait(page, "ArrowRight")
    assert path(page) == present_path(round_, 3)  # the first theme
    assert_accessible(page)
    expect(page.locator("h1")).to_have_text(focus_title)
    expect(page.locator(f"main #chart-needs-{FOCUS}[role=img]")).to_be_visible()
    expect(page.locator("main svg[role=img] circle.series-experience")).not_to_have_count(0)
    assert font_px(page.locator("main .gs-guide-columns li").first) > guide_item_size * 1.2  # large type
    assert font_px(page.locator("h1")) >= 40
    expect(page.locator("body")).not_to_contain_text(COMMENT)
    press_and_wait(page, "PageUp")
    assert path(page) == present_path(round_, 2)

    # Through every screen with the Next link, and one back with Previous.
    total = 8
    for step in range(2, total):
        click_and_wait(page, page.locator("#gs-next"))
        assert path(page) == present_path(round_, step + 1)
        assert_accessible(page)
        expect(page.locator("body")).not_to_contain_text(COMMENT)
    expect(page.locator("#gs-next")).to_have_count(0)  # the last screen
    click_and_wait(page, page.locator("#gs-prev"))
    assert path(page) == present_path(round_, total - 1)

    click_and_wait(page, page.locator(f'.gs-present-bar a[href="{guide_path(round_)}"]'))
    assert path(page) == guide_path(round_)

    # An agreement about the focus theme, owned by a named leader, with a date.
    click_and_wait(page, page.locator(f'main a[href="/rounds/{round_.public_id}/agreements/"]'))
    assert_accessible(page)
    # First the theme, then the agreement: the items it can point at are that theme's own.
    page.locator("#choose-theme").select_option(FOCUS)
    click_and_wait(page, page.locator("form:has(#choose-theme) button[type=submit]"))
    assert_accessible(page)
    expect(page.locator("form:has(#id_text) input[name=theme]")).to_have_value(FOCUS)
    page.locator("#id_text").fill(AGREEMENT)
    page.locator("#id_owner").select_option("leader")
    page.locator("#id_leader").select_option(str(owner.pk))
    page.locator("#id_due_on").fill(DUE.isoformat())
    click_and_wait(page, page.locator("form:has(#id_text) button[type=submit]"))
    assert path(page) == f"/rounds/{round_.public_id}/agreements/"
    expect(page.locator(".gs-messages [role=status]")).to_have_count(1)
    assert_accessible(page)
    agreement = page.locator(f"section[aria-labelledby=agreements-{FOCUS}] .gs-agreement")
    expect(agreement).to_have_count(1)
    expect(agreement.locator(".gs-agreement-text")).to_have_text(AGREEMENT)
    meta = agreement.locator(".gs-agreement-meta")
    expect(meta).to_contain_text(owner.name)
    expect(meta).to_contain_text(danish_date(DUE))
    expect(meta).to_contain_text(in_danish(AgreementStatus.AGREED.label))

    status_form = page.locator(f'section[aria-labelledby=agreements-{FOCUS}] form.gs-inline-status[action$="/status/"]')
    status_form.locator("select[name=status]").select_option(AgreementStatus.IN_PROGRESS.value)
    click_and_wait(page, status_form.locator("button[type=submit]"))
    assert_accessible(page)
    expect(meta).to_contain_text(in_danish(AgreementStatus.IN_PROGRESS.label))
    expect(status_form.locator("select[name=status]")).to_have_value(AgreementStatus.IN_PROGRESS.value)

    # The agreement on the report's page for the theme, next to the figures (and the comment, which is the chief's).
    click_and_wait(page, page.locator(f'.gs-breadcrumb a[href="{report}"]'))
    click_and_wait(page, page.locator(f'.gs-theme-links a[href="{report}{FOCUS}/"]'))
    assert_accessible(page)
    theme_agreements = page.locator("section[aria-labelledby=theme-agreements-heading] .gs-agreement")
    expect(theme_agreements).to_have_count(1)
    expect(theme_agreements).to_contain_text(AGREEMENT)
    expect(theme_agreements).to_contain_text(in_danish(AgreementStatus.IN_PROGRESS.label))
    expect(page.locator(".gs-comments")).to_contain_text(COMMENT)

    # Shared with the team from the report's toolbar: the page says since when.
    click_and_wait(page, page.locator(f'.gs-breadcrumb a[href="{report}"]'))
    share = page.locator(".gs-toolbar form.gs-share")
    expect(share.locator("p")).not_to_contain_text(danish_date(timezone.localdate()))
    click_and_wait(page, share.locator("button[name=share][value=yes]"))
    assert path(page) == report
    expect(page.locator(".gs-messages [role=status]")).to_have_count(1)
    assert_accessible(page)
    expect(share.locator("p")).to_contain_text(danish_date(timezone.localdate()))
    expect(share.locator("button[name=share][value=no]")).to_have_count(1)
    round_.refresh_from_db()
    assert round_.shared_on == timezone.localdate()


# --- 2. The leader's walk -------------------------------------------------------------------


def shown_figures(page: Page) -> list[list[str]]:
    """Every figures table on the page, as shown, with at least some leaders' means in Danish format."""
    tables = [figures(table) for table in page.locator("table.gs-figures").all()]
    cells = [cell for table in tables for row in table for cell in row]
    assert sum(bool(DANISH_NUMBER.match(cell)) for cell in cells) >= 10, cells
    return tables


def assert_not_found(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response.status == 404, url
    with translation.override("da"):
        expect(page.locator("h1")).to_have_text(gettext("Page not found"))


def set_sharing(chief: Page, round_, *, share: bool) -> None:
    """The chief shares, or stops sharing, from the report's toolbar."""
    chief.goto(report_path(round_))
    click_and_wait(chief, chief.locator(f".gs-share button[name=share][value={'yes' if share else 'no'}]"))
    expect(chief.locator(".gs-messages [role=status]")).to_have_count(1)


def assert_no_chief_tools(page: Page) -> None:
    """No meeting guide, agreement form, share button or link into the chief's pages."""
    expect(page.locator('a[href^="/rounds/"]')).to_have_count(0)
    expect(page.locator('form[action^="/rounds/"]')).to_have_count(0)
    expect(page.locator("button[name=share]")).to_have_count(0)


def test_a_leader_reads_the_shared_report_with_the_chiefs_figures_and_agreements_but_no_comments(new_page, mailoutbox):
    team = make_team(leaders=8)
    round_ = round_with_a_focus_theme(team)
    record_agreement(round_=round_, theme_key=FOCUS, text=AGREEMENT, owner="team", due_on=DUE)
    leader = Person.objects.filter(invitations__round=round_, invitations__role=Role.LEADER).order_by("pk").first()
    team_report = f"/team/{round_.public_id}/"
    chief_pages = [report_path(round_), f"{report_path(round_)}{FOCUS}/", guide_path(round_), present_path(round_)]

    chief = new_page()
    sign_in(chief, team.chief.email, CHIEF_PASSWORD)
    reader = new_page()
    sign_in_with_link(reader, mailoutbox, leader.email)

    # Before the chief shares: nothing on My page, and the team report does not exist for them.
    expect(reader.locator("#joined-heading")).to_have_count(1)
    expect(reader.locator("#shared-heading")).to_have_count(0)
    for url in (team_report, f"{team_report}{FOCUS}/"):
        assert_not_found(reader, url)
    assert_accessible(reader)

    set_sharing(chief, round_, share=True)
    chief_overview = shown_figures(chief)
    chief.goto(f"{report_path(round_)}{FOCUS}/")
    chief_theme = shown_figures(chief)
    expect(chief.locator(".gs-comments")).to_contain_text(COMMENT)  # so its absence below means something

    reader.goto("/")
    shared = reader.locator("section[aria-labelledby=shared-heading]")
    expect(shared).to_contain_text(danish_date(timezone.localdate()))
    assert_accessible(reader)
    click_and_wait(reader, shared.locator(f'a[href="{team_report}"]'))
    assert_accessible(reader)
    assert shown_figures(reader) == chief_overview
    expect(reader.locator("section[aria-labelledby=agreements-heading] .gs-agreement")).to_contain_text(AGREEMENT)
    assert_no_chief_tools(reader)

    click_and_wait(reader, reader.locator(f'.gs-theme-links a[href="{team_report}{FOCUS}/"]'))
    assert_accessible(reader)
    assert shown_figures(reader) == chief_theme
    theme_agreements = reader.locator("section[aria-labelledby=theme-agreements-heading] .gs-agreement")
    expect(theme_agreements).to_have_count(1)
    expect(theme_agreements).to_contain_text(AGREEMENT)
    expect(theme_agreements).to_contain_text(danish_date(DUE))
    expect(reader.locator("#comments-heading")).to_have_count(0)
    expect(reader.locator("body")).not_to_contain_text(COMMENT)
    assert_no_chief_tools(reader)

    # The chief's own pages stay the chief's.
    for url in chief_pages:
        assert_not_found(reader, url)

    # Once the chief stops sharing, the report is gone again.
    set_sharing(chief, round_, share=False)
    assert_not_found(reader, f"{team_report}{FOCUS}/")
    assert_accessible(reader)
    reader.goto("/")
    expect(reader.locator("#shared-heading")).to_have_count(0)


# --- 3. Meeting mode without JavaScript, and in English ----------------------------------------


class CheckerWithoutScripts:
    """axe is a script, so it cannot run in a page with JavaScript off. This opens the same URL, as the
    same user, in a page that may run scripts but gets none of the site's, and checks it there."""

    def __init__(self, new_page):
        self.page = new_page()
        self.page.route("**/*.js", lambda route: route.abort())  # axe is injected inline, not fetched

    def assert_accessible(self, page: Page) -> None:
        self.page.context.add_cookies(page.context.cookies())
        self.page.goto(page.url)
        expect(self.page.locator("h1")).to_have_text(page.locator("h1").inner_text())
        assert_accessible(self.page)


def test_meeting_mode_works_without_javascript(new_page):
    team = make_team(leaders=8)
    round_ = round_with_a_focus_theme(team)
    page = new_page(javascript=False)
    checker = CheckerWithoutScripts(new_page)
    sign_in(page, team.chief.email, CHIEF_PASSWORD)

    page.goto(present_path(round_))
    checker.assert_accessible(page)
    expect(page.locator("#gs-fullscreen")).to_be_hidden()  # it needs the script to work, so it stays hidden
    for step in (2, 3):
        click_and_wait(page, page.locator("#gs-next"))
        assert path(page) == present_path(round_, step)
        checker.assert_accessible(page)
    expect(page.locator("main svg[role=img] >> visible=true")).to_have_count(1)  # one of its two layouts
    click_and_wait(page, page.locator("#gs-prev"))
    assert path(page) == present_path(round_, 2)
    click_and_wait(page, page.locator(f'.gs-present-bar a[href="{guide_path(round_)}"]'))
    assert path(page) == guide_path(round_)


def test_the_guide_and_meeting_mode_in_english(new_page):
    team = make_team(leaders=8)
    round_ = round_with_a_focus_theme(team)
    page = new_page(language="en")
    sign_in(page, team.chief.email, CHIEF_PASSWORD)

    page.goto(guide_path(round_))
    assert_accessible(page)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    with translation.override("en"):
        expect(page.locator("h1")).to_contain_text(gettext("Meeting guide"))
        expect(page.locator("#welcome-heading")).to_have_text(gettext("Welcome: why we are here"))
        expect(page.locator("#differences-heading")).to_have_text(gettext("Leading leaders is different"))
        expect(page.locator("#agree-heading")).to_have_text(gettext("What we agree"))
        expect(page.locator("#close-heading")).to_have_text(gettext("Round-up and next steps"))
        expect(page.locator(".gs-agenda > li").nth(0)).to_contain_text("(10 minutes)")

    click_and_wait(page, page.locator(f'main a[href="{present_path(round_)}"]'))
    assert_accessible(page)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    with translation.override("en"):
        expect(page.locator("h1")).to_have_text(gettext("Welcome: why we are here"))
        expect(page.locator("#gs-next")).to_have_text(gettext("Next"))


# --- 4. A team under the threshold ---------------------------------------------------------


def assert_too_few_shown(area: Locator) -> None:
    """Each need in the chart says "too few answers"; the leaders' column of the table too; the chief's own shows."""
    too_few = da("Too few answers to show")
    notes = area.locator("figure.gs-chart svg .chart-note")
    expect(notes).not_to_have_count(0)
    for note in notes.all():
        expect(note).to_have_text(too_few)
    expect(area.locator("figure.gs-chart svg .series-chief")).not_to_have_count(0)
    tables = area.locator("table.gs-figures")
    expect(tables).to_have_count(2)
    # The needs after the chart: importance and experience withheld, no gap or spread, the chief's own shown.
    needs = tables.first.locator("tbody tr")
    expect(needs).not_to_have_count(0)
    for row in needs.all():
        cells = row.locator("td")
        expect(cells.nth(0).locator(".gs-withheld")).to_have_text(too_few)
        expect(cells.nth(1).locator(".gs-withheld")).to_have_text(too_few)
        expect(cells.nth(2)).to_have_text("–")
        expect(cells.nth(3)).to_have_text("–")
        expect(cells.nth(4)).to_have_text(DANISH_NUMBER)
    # The chief's expectations: the chief's own answer shown, the leaders' self-assessment withheld.
    mirror = tables.last.locator("tbody tr")
    expect(mirror).not_to_have_count(0)
    for row in mirror.all():
        cells = row.locator("td")
        expect(cells.nth(0)).to_have_text(DANISH_NUMBER)
        expect(cells.nth(1).locator(".gs-withheld")).to_have_text(too_few)


def test_a_team_under_the_threshold_gets_the_guide_and_meeting_mode_without_leaders_figures(page):
    team = make_team(leaders=8)
    round_ = round_with_a_focus_theme(team, answering=3)
    sign_in(page, team.chief.email, CHIEF_PASSWORD)

    page.goto(guide_path(round_))
    assert_accessible(page)
    assert_no_leader_figures(page)
    expect(page.locator("main")).to_contain_text(da(NO_RANKING))
    themes = page.locator("section[aria-labelledby^=guide-theme-]")
    expect(themes).to_have_count(2)
    for theme in themes.all():
        assert_too_few_shown(theme)

    # The two-hour agenda: welcome, differences, two themes, agreements, round-up.
    page.goto(present_path(round_))
    for step in range(1, 7):
        assert_accessible(page)
        assert_no_leader_figures(page)
        expect(page.locator("body")).not_to_contain_text(COMMENT)
        if step in (3, 4):
            expect(page.locator("main figure.gs-chart svg[role=img] >> visible=true")).to_have_count(1)
            assert_too_few_shown(page.locator("main"))
        if step < 6:
            click_and_wait(page, page.locator("#gs-next"))
    expect(page.locator("#gs-next")).to_have_count(0)
