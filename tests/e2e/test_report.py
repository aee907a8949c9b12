"""The chief's way to the report in the browser, the anonymity rules as they show there, and who may see it."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Page, Response, expect

from gensidig.models.choices import Role

from ..factories import (
    CHIEF_PASSWORD,
    answer,
    answers_for,
    chief_link,
    closed_round,
    leader_links,
    make_team,
    start_round,
)
from .conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

THEME_KEYS = ["direction", "autonomy", "sparring", "teamwork", "communication", "strengths"]
# A mean or a difference as the report prints it, in either language's number format: 3,8 / 3.8 / +0,5 / −1,2
NUMBER = re.compile(r"^[+−-]?\d+[.,]\d$")
COMMENTS = ["Mere tydelig retning, tak – især om økonomien.", "Vi får sjældent svar på tværs af områderne: æøå."]


def click_and_wait(page: Page, locator) -> Response:
    with page.expect_navigation() as navigation:
        locator.click()
    return navigation.value


def sign_in(page: Page, email: str, password: str) -> Response:
    if urlparse(page.url).path != "/login/":
        page.goto("/login/")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(password)
    return click_and_wait(page, page.locator("main form button[type=submit]"))


def report_path(round_) -> str:
    return f"/rounds/{round_.public_id}/report/"


def assert_charts_are_labelled(page: Page, count: int) -> None:
    """Each chart is an image whose name is its non-empty <title> (and its description)."""
    charts = page.locator("figure.gs-chart svg[role=img] >> visible=true")  # each chart has a wide and a narrow layout
    expect(charts).to_have_count(count)
    for chart in charts.all():
        ids = chart.get_attribute("aria-labelledby").split()
        assert ids, "a chart without aria-labelledby"
        title = chart.locator(f'title[id="{ids[0]}"]')
        expect(title).to_have_count(1)
        title_text = title.text_content().strip()
        assert title_text
        for other in ids[1:]:
            assert chart.locator(f'[id="{other}"]').text_content().strip()
        expect(chart).to_have_accessible_name(re.compile(re.escape(title_text)))


def assert_tables_have_numbers(page: Page) -> None:
    """The table after each chart gives its figures: every row has numbers and nothing is withheld."""
    tables = page.locator("figure.gs-chart + .table--responsive-scroll table")
    expect(tables).not_to_have_count(0)
    assert tables.count() == page.locator("figure.gs-chart").count()
    for table in tables.all():
        rows = table.locator("tbody tr")
        expect(rows).not_to_have_count(0)
        for row in rows.all():
            numbers = [text for text in row.locator("td").all_inner_texts() if NUMBER.match(text.strip())]
            assert len(numbers) >= 2, row.inner_text()
        expect(table.locator(".gs-withheld")).to_have_count(0)


def leader_values(number: int):
    """Different leaders, different answers, so means vary and disagreement shows somewhere."""
    return lambda key, scale: (len(key) + number * 2) % 5 + 1


def test_the_chief_signs_in_closes_the_round_and_reads_every_page_of_the_report(page):
    team = make_team(leaders=8)
    round_, links = start_round(team)
    for number, link in enumerate(leader_links(links)[:6]):
        comments = {"direction": COMMENTS[number]} if number < len(COMMENTS) else {}
        answer(link, answers_for(round_, Role.LEADER, leader_values(number), comments))
    answer(chief_link(links), answers_for(round_, Role.CHIEF, 3))

    sign_in(page, team.chief.email, CHIEF_PASSWORD)
    assert urlparse(page.url).path == "/"
    expect(page.locator(".gs-team h3")).to_contain_text(team.name)
    assert_accessible(page)

    click_and_wait(page, page.locator(f'main a[href="/rounds/{round_.public_id}/"]'))
    expect(page.locator(".gs-facts dd").filter(has_text=re.compile(r"^6\D+8$"))).to_have_count(1)  # 6 of 8
    assert_accessible(page)

    # Closing is explained on a page of its own before the chief confirms it.
    click_and_wait(page, page.locator(f'main a[href="/rounds/{round_.public_id}/close/confirm/"]'))
    assert_accessible(page)
    click_and_wait(page, page.locator(f'form[action="/rounds/{round_.public_id}/close/"] button[type=submit]'))
    assert urlparse(page.url).path == f"/rounds/{round_.public_id}/"
    expect(page.locator(".gs-messages [role=status]")).to_have_count(1)
    assert_accessible(page)

    response = click_and_wait(page, page.locator(f'main a[href="{report_path(round_)}"]'))
    assert response.status == 200
    assert_accessible(page)
    assert_charts_are_labelled(page, count=3)  # overview, grid and mirror
    expect(page.locator("#chart-overview circle.series-experience")).to_have_count(len(THEME_KEYS))
    assert_tables_have_numbers(page)

    theme_links = page.locator(".gs-theme-links a")
    hrefs = [theme_links.nth(i).get_attribute("href") for i in range(theme_links.count())]
    assert hrefs == [f"{report_path(round_)}{key}/" for key in THEME_KEYS]
    for href in hrefs:
        response = page.goto(href)
        assert response.status == 200
        assert_accessible(page)
        assert_charts_are_labelled(page, count=2)  # needs and mirror
        assert_tables_have_numbers(page)
        if href.endswith("/direction/"):
            # Six leaders answered, so comments show, word for word.
            expect(page.locator(".gs-comments li")).to_have_count(len(COMMENTS))
            for comment in COMMENTS:
                expect(page.locator(".gs-comments")).to_contain_text(comment)


def test_a_team_under_the_threshold_gets_no_leader_figures(page):
    team = make_team(leaders=3)
    round_ = closed_round(team, answering=3, value=4, chief_value=2)

    sign_in(page, team.chief.email, CHIEF_PASSWORD)
    page.goto(report_path(round_))
    assert_accessible(page)
    expect(page.locator(".alert-warning")).to_have_count(1)
    overview_rows = page.locator("table.gs-figures").first.locator("tbody tr")
    expect(overview_rows).to_have_count(len(THEME_KEYS))
    for row in overview_rows.all():
        cells = row.locator("td")
        # Importance, experience and gap are one withheld cell; the chief's own answer still shows.
        expect(cells.first.locator(".gs-withheld")).to_have_count(1)
        assert cells.first.get_attribute("colspan") == "3"
        assert NUMBER.match(cells.nth(1).inner_text().strip())
    chart = page.locator("#chart-overview")
    expect(chart.locator("circle.series-experience")).to_have_count(0)
    expect(chart.locator("circle.series-importance")).to_have_count(0)
    expect(chart.locator(".chart-note")).to_have_count(len(THEME_KEYS))
    expect(chart.locator("polygon.series-chief")).to_have_count(len(THEME_KEYS))

    page.goto(f"{report_path(round_)}direction/")
    assert_accessible(page)
    need_rows = page.locator("table.gs-figures").first.locator("tbody tr")
    expect(need_rows).not_to_have_count(0)
    for row in need_rows.all():
        expect(row.locator("td").nth(0).locator(".gs-withheld")).to_have_count(1)  # importance
        expect(row.locator("td").nth(1).locator(".gs-withheld")).to_have_count(1)  # experience
    expect(page.locator("#chart-needs-direction circle.series-experience")).to_have_count(0)
    expect(page.locator(".gs-comments")).to_have_count(0)


def test_the_language_switch_changes_the_page_language(page):
    page.goto("/about/")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "da")

    switch = page.locator(".gs-header .gs-language button[name=language]")
    expect(switch).to_have_attribute("value", "en")
    expect(switch).to_have_attribute("lang", "en")
    click_and_wait(page, switch)
    expect(html).to_have_attribute("lang", "en")
    assert urlparse(page.url).path == "/about/"
    with translation.override("en"):
        expect(page.locator("h1")).to_have_text(gettext("About the survey"))

    expect(switch).to_have_attribute("value", "da")
    click_and_wait(page, switch)
    expect(html).to_have_attribute("lang", "da")
    assert urlparse(page.url).path == "/about/"


def test_the_report_reads_on_a_phone_and_its_wide_tables_scroll_by_keyboard(new_page, team):
    round_ = closed_round(team, answering=6)
    page = new_page(phone=True)
    sign_in(page, team.chief.email, CHIEF_PASSWORD)
    assert_accessible(page)

    for path in (report_path(round_), f"{report_path(round_)}teamwork/"):
        page.goto(path)
        assert_accessible(page)
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        # A table wider than the phone scrolls in its own region, which keyboard users can reach and scroll.
        regions = page.locator(".table--responsive-scroll").all()
        wide = [region for region in regions if region.evaluate("e => e.scrollWidth > e.clientWidth")]
        assert wide, f"no table on {path} is wider than a phone; this test no longer tests scrolling"
        for region in wide:
            expect(region).to_have_accessible_name(re.compile(r"\S"))
            region.focus()
            expect(region).to_be_focused()
            page.keyboard.press("ArrowRight")
            page.wait_for_function("e => e.scrollLeft > 0", arg=region.element_handle())


def test_an_outsider_gets_not_found_for_someone_elses_report(page, team, outsider):
    round_ = closed_round(team, answering=5)
    sign_in(page, outsider.email, "not-a-chief-pw")
    assert urlparse(page.url).path == "/"

    for path in (report_path(round_), f"{report_path(round_)}direction/", f"/rounds/{round_.public_id}/"):
        response = page.goto(path)
        assert response.status == 404, path
    with translation.override("da"):
        expect(page.locator("h1")).to_have_text(gettext("Page not found"))
    assert_accessible(page)


def test_an_anonymous_visitor_is_sent_to_sign_in_and_then_on_to_the_report(page, team):
    round_ = closed_round(team, answering=5)

    page.goto(report_path(round_))
    url = urlparse(page.url)
    assert url.path == "/login/"
    assert parse_qs(url.query)["next"] == [report_path(round_)]
    expect(page.locator("svg[role=img]")).to_have_count(0)

    sign_in(page, team.chief.email, CHIEF_PASSWORD)
    assert urlparse(page.url).path == report_path(round_)
    assert_charts_are_labelled(page, count=3)
