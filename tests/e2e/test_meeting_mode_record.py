"""Agreements in the room, in the browser: meeting mode records an agreement on its agreements step
without leaving the page (htmx), and with JavaScript off through an ordinary form post; the edit page,
the help pages and HR's checklist pass axe at desktop and phone width.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext, pgettext
from playwright.sync_api import Page, expect

from gensidig.models import Agreement
from gensidig.services.access import add_admin
from gensidig.services.agreements import record_agreement

from ..factories import closed_round, make_team
from .conftest import assert_accessible
from .test_dialogue import CheckerWithoutScripts
from .test_report import click_and_wait

pytestmark = pytest.mark.django_db(transaction=True)

AGREEMENT = "We start every leaders' meeting with ten minutes on what the directors decided."
WITHOUT_JS = "Chefen sender referatet fra direktionen samme dag."


def in_language(message: str, language: str) -> str:
    with translation.override(language):
        return gettext(message)


def signed_in(new_page, live_server, user, **options) -> Page:
    """A browser page signed in as `user`, with a session made the way the test client makes one."""
    client = Client()
    client.force_login(user)
    page = new_page(**options)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    return page


def agreements_step(round_) -> str:
    # The two-hour agenda: welcome, differences, two themes, agreements, round-up.
    return f"/rounds/{round_.public_id}/guide/present/5/"


def path(page: Page) -> str:
    return urlparse(page.url).path


def test_meeting_mode_records_an_agreement_in_place_and_keeps_full_screen(new_page, live_server):
    team = make_team(leaders=8)
    round_ = closed_round(team, answering=6)
    page = signed_in(new_page, live_server, team.chief.user, language="en")
    page.goto(agreements_step(round_))
    with translation.override("en"):
        expect(page.locator("h1")).to_have_text(gettext("What we agree"))
    assert_accessible(page)

    page.locator("#gs-fullscreen").click()
    page.wait_for_function("() => document.fullscreenElement !== null")
    page.evaluate("() => { window.stillHere = true; }")  # gone if the page is reloaded or left

    form = page.get_by_role("form", name="Record an agreement")
    theme = form.get_by_label("Theme")
    chosen = theme.locator("option").nth(1)
    theme.select_option(chosen.get_attribute("value"))
    form.get_by_label("What we agree").fill(AGREEMENT)
    form.get_by_role("button", name="Record the agreement").click()

    listed = page.locator("#present-agreements .gs-present-agreed")
    expect(listed).to_contain_text(AGREEMENT)
    expect(listed.locator("li", has_text=chosen.inner_text().strip()).first).to_contain_text(AGREEMENT)
    status = page.locator("#agreement-recorded[role=status]")
    expect(status).to_have_text(in_language("The agreement is written down.", "en"))
    expect(status).to_be_focused()
    assert page.evaluate("() => window.stillHere") is True
    assert path(page) == agreements_step(round_)
    assert page.evaluate("() => document.fullscreenElement !== null"), "recording left full screen"
    # A fresh, empty form for the next agreement.
    expect(page.get_by_role("form", name="Record an agreement").get_by_label("What we agree")).to_have_value("")
    assert Agreement.objects.filter(round=round_, text=AGREEMENT).count() == 1
    assert_accessible(page)

    # Space on "who, and by when" opens it, rather than moving to the next step.
    page.locator("#present-agreements summary").focus()
    page.keyboard.press(" ")
    expect(page.locator("#present-agreements details")).to_have_attribute("open", "")
    assert path(page) == agreements_step(round_)

    # Nothing written: the form says so in place, and the reader is taken to the summary.
    page.get_by_role("button", name="Record the agreement").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text(in_language("What we agree", "en"))
    assert page.evaluate("() => window.stillHere") is True
    assert_accessible(page)
    assert Agreement.objects.filter(round=round_).count() == 1

    phone = signed_in(new_page, live_server, team.chief.user, phone=True)
    phone.goto(agreements_step(round_))
    expect(phone.get_by_role("form", name=in_language("Record an agreement", "da"))).to_be_visible()
    assert_accessible(phone)


def test_meeting_mode_records_an_agreement_without_javascript(new_page, live_server):
    team = make_team(leaders=8)
    round_ = closed_round(team, answering=6)
    page = signed_in(new_page, live_server, team.chief.user, javascript=False)
    checker = CheckerWithoutScripts(new_page)
    page.goto(agreements_step(round_))
    checker.assert_accessible(page)

    form = page.get_by_role("form", name=in_language("Record an agreement", "da"))
    form.get_by_label(in_language("What we agree", "da")).fill(WITHOUT_JS)
    click_and_wait(page, form.get_by_role("button", name=in_language("Record the agreement", "da")))
    assert path(page) == agreements_step(round_)
    expect(page.locator("#present-agreements")).to_contain_text(WITHOUT_JS)
    expect(page.locator("#agreement-recorded")).to_have_text(in_language("The agreement is written down.", "da"))
    checker.assert_accessible(page)


def test_the_edit_page_and_hrs_checklist_pass_axe_on_desktop_and_phone(new_page, live_server):
    team = make_team(leaders=8)
    round_ = closed_round(team, answering=6)
    agreement = record_agreement(round_=round_, theme_key="direction", text="Fælles retning", owner="team")
    for phone in (False, True):
        page = signed_in(new_page, live_server, team.chief.user, phone=phone)
        page.goto(f"/rounds/{round_.public_id}/agreements/")
        click_and_wait(
            page, page.locator(f'a[href="/rounds/{round_.public_id}/agreements/{agreement.public_id}/edit/"]')
        )
        expect(page.locator("#id_text")).to_have_value("Fælles retning")
        assert_accessible(page)
        page.locator("#id_text").fill("")
        click_and_wait(page, page.locator("main form button[type=submit]"))
        expect(page.locator("#error-summary")).to_be_focused()
        assert_accessible(page)

    _organisation, hr = add_admin(email="hr@ny.example", organisation_slug="ny", organisation_name="Ny Kommune")
    for phone in (False, True):
        page = signed_in(new_page, live_server, hr, phone=phone)
        page.goto("/org/ny/")
        checklist = page.locator("section[aria-labelledby=checklist-heading] li")
        expect(checklist).to_have_count(3)
        with translation.override("da"):
            expect(checklist.first).to_contain_text(pgettext("checklist step", "Not done yet"))
        assert_accessible(page)


@pytest.mark.parametrize("phone", [False, True])
def test_the_help_pages_pass_axe_for_anonymous_visitors(new_page, phone):
    for language in ("da", "en"):
        page = new_page(phone=phone, language=language)
        page.goto("/")
        click_and_wait(page, page.locator('header a[href="/help/"]'))
        expect(page.locator("h1")).to_have_text(in_language("Help", language))
        assert_accessible(page)
        for role, title in (("leader", "Help for leaders"), ("chief", "Help for chiefs"), ("hr", "Help for HR")):
            page.goto("/help/")
            click_and_wait(page, page.locator(f'main a[href="/help/{role}/"]'))
            expect(page.locator("h1")).to_have_text(in_language(title, language))
            expect(page.locator("html")).to_have_attribute("lang", language)
            assert_accessible(page)
