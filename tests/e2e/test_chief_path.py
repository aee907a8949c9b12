"""The whole single-team path in the browser, as a chief who has never used Gensidig (issue 10, proof).

The chief signs in with a link from a real SMTP server, starts a round for their team with one
leader added by hand, looks at the invitation before sending, and sends. The leaders answer through
the links in their e-mails, the chief answers too, sends a reminder to the one who has not, closes
the round, reads the report, shares it and records an agreement in meeting mode; the leaders'
e-mail about the shared report arrives, and its link signs a leader in on it. The sender
(`gensidig send-mail`) runs here where the worker would. axe runs on every new page, on a desktop
and a phone.
"""

from __future__ import annotations

import io
import re
from urllib.parse import urlparse

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from gensidig.models import Organisation, Round
from gensidig.models.choices import Role

from .. import smtp
from ..factories import CHIEF_PASSWORD, make_team
from .conftest import assert_accessible
from .test_answering import THEMES, answer_everything, go
from .test_report import click_and_wait, sign_in

pytestmark = pytest.mark.django_db(transaction=True)
smtp_server = smtp.smtp_server

ADDED = "ny.leder@kommune.example"
AGREEMENT = "We keep a standing half hour of sparring every other Monday."
SIGN_IN_LINK = re.compile(r"https?://\S+?(/login/link/[A-Za-z0-9_\-]{43}/)")
NOTICE_LINK = re.compile(r"https?://\S+?(/login/link/[A-Za-z0-9_\-]{43}/\?next=\S+)")


def path(page: Page) -> str:
    return urlparse(page.url).path


def send_mail() -> None:
    """One pass of the sender, as the worker (`gensidig send-mail --loop`) makes it."""
    call_command("send_mail", stdout=io.StringIO(), stderr=io.StringIO())


def answer_briskly(page: Page, value: int) -> None:
    """Answer every theme page of the form and send it: each question's radio button is clicked in
    the page (the form's own events fire), then the page's own button goes on. Quicker than
    clicking each label with the mouse, which test_answering does for one person here."""
    go(page, "next")
    for number in range(1, THEMES + 1):
        page.evaluate(
            """(value) => {
                const names = new Set([...document.querySelectorAll('.gs-answer-form input[type=radio]')].map((r) => r.name));
                for (const name of names) document.querySelector(`input[name="${name}"][value="${value}"]`).click();
            }""",
            value,
        )
        go(page, "send" if number == THEMES else "next")
    assert path(page) == "/answer/thanks/"


def accessible_on_a_phone(phone: Page, url: str) -> None:
    phone.goto(url)
    assert_accessible(phone)
    assert phone.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), url


def test_a_new_chief_runs_a_round_for_their_team_from_sign_in_to_the_shared_report(new_page, smtp_server):
    team = make_team(leaders=3)
    Organisation.objects.filter(pk=team.organisation_id).update(anonymity_threshold=3)
    organisation_leaders = list(team.leaders.order_by("pk"))
    page = new_page(language="en")
    phone = new_page(phone=True, language="en")
    sign_in(phone, team.chief.email, CHIEF_PASSWORD)

    # Sign in with a link by e-mail: the form queues, the sender sends, the link signs in.
    page.goto("/login/link/")
    page.get_by_label("E-mail address").fill(team.chief.email)
    click_and_wait(page, page.locator("main form button[type=submit]"))
    send_mail()
    (mail,) = smtp_server.to(team.chief.email)
    (link,) = set(SIGN_IN_LINK.findall(mail.text))
    page.goto(link)
    click_and_wait(page, page.get_by_role("button", name="Sign in to Gensidig"))
    assert path(page) == "/"

    # Start a round: the org chart's leaders, one added by hand; checked before anything is sent.
    click_and_wait(page, page.get_by_role("link", name=f"Start a round – {team.name}"))
    start = path(page)
    assert start == f"/teams/{team.public_id}/rounds/new/"
    for leader in organisation_leaders:
        expect(page.get_by_label(f"{leader.name} ({leader.email})")).not_to_be_checked()
    expect(page.locator("main")).to_contain_text("3 leaders")  # the threshold, before anything else
    assert_accessible(page)
    accessible_on_a_phone(phone, start)
    phone.get_by_label("Add leaders by e-mail").fill(ADDED)
    click_and_wait(phone, phone.get_by_role("button", name="Check"))
    assert_accessible(phone)  # the plan, as checked
    page.get_by_label("Add leaders by e-mail").fill(ADDED)
    click_and_wait(page, page.get_by_role("button", name="Check"))
    plan = page.locator("section.gs-plan")
    expect(plan).to_contain_text("4 leaders and you are asked")
    expect(plan).to_contain_text(ADDED)
    expect(page.locator(".gs-under-k")).to_have_count(0)
    assert_accessible(page)

    # The invitation as the leaders will get it, in a tab of its own.
    with page.context.expect_page() as opened:
        page.get_by_role("link", name=re.compile("See the invitation and the reminder")).click()
    preview = opened.value
    preview.wait_for_load_state()
    expect(preview.locator("h1")).to_contain_text(team.name)
    expect(preview.locator("iframe.gs-mail-frame")).not_to_have_count(0)
    expect(preview.get_by_text(f"What do you need from your chief? ({team.name})").first).to_be_visible()
    assert_accessible(preview)
    accessible_on_a_phone(phone, preview.url)
    preview.close()

    click_and_wait(page, page.get_by_role("button", name="Send the invitations"))
    round_ = Round.objects.get(team=team)
    assert path(page) == f"/rounds/{round_.public_id}/"
    expect(page.locator(".gs-messages [role=status]")).to_contain_text("on their way")
    assert_accessible(page)
    accessible_on_a_phone(phone, f"/rounds/{round_.public_id}/")

    # The sender sends the invitations; the leaders answer through the links in their e-mails.
    smtp_server.clear()
    send_mail()
    leaders = [*(p.email for p in organisation_leaders), ADDED]
    assert sorted(smtp_server.recipients()) == sorted([*leaders, team.chief.email])
    silent = organisation_leaders[0].email  # the one who has not answered when the reminder goes
    for number, address in enumerate(leaders):
        if address == silent:
            continue
        (invitation,) = smtp_server.to(address)
        leader_page = new_page()
        leader_page.goto(f"/a/{invitation.token}/")
        if address == ADDED:  # the leader added by hand answers as a person does, label by label
            answer_everything(leader_page)
        else:
            answer_briskly(leader_page, 2 + number)
        leader_page.close()
    (own,) = smtp_server.to(team.chief.email)
    page.goto(f"/a/{own.token}/")
    answer_briskly(page, 4)

    # While it runs: counts only; a reminder to whoever has not answered, naming nobody.
    page.goto(f"/rounds/{round_.public_id}/")
    expect(page.locator("main")).to_contain_text("3 of 4")
    click_and_wait(page, page.get_by_role("button", name="Send a reminder now"))
    expect(page.locator(".gs-messages [role=status]")).to_contain_text("reminder is on its way")
    expect(page.get_by_role("button", name="Send a reminder now")).to_have_count(0)
    for address in leaders:
        expect(page.locator("body")).not_to_contain_text(address)
    assert_accessible(page)
    smtp_server.clear()
    send_mail()
    assert smtp_server.recipients() == [silent]

    # Close, after being told what closing means; then the report.
    click_and_wait(page, page.get_by_role("link", name="Close the round now"))
    assert_accessible(page)
    accessible_on_a_phone(phone, page.url)
    click_and_wait(page, page.get_by_role("button", name="Close the round and make the report"))
    expect(page.locator(".gs-messages [role=status]")).to_contain_text("report is ready")
    click_and_wait(page, page.get_by_role("link", name="Read the report"))
    report = f"/rounds/{round_.public_id}/report/"
    assert path(page) == report
    expect(page.locator("table.gs-figures").first).to_be_visible()

    # Share the report with the team from the report's toolbar.
    click_and_wait(page, page.locator(".gs-toolbar form.gs-share button[name=share][value=yes]"))
    assert path(page) == report
    expect(page.locator(".gs-messages")).to_contain_text("4 leaders get an e-mail with a link to the report")
    round_.refresh_from_db()
    assert round_.shared_on is not None
    assert round_.invitations.filter(role=Role.LEADER, used=True).count() == 3

    # Meeting mode: an agreement recorded on the agreements step, without leaving it (the form of
    # the "dialogue" work, written against its contract).
    page.goto(f"/rounds/{round_.public_id}/guide/present/")
    record = page.get_by_role("form", name="Record an agreement")
    for _ in range(12):
        if record.count():
            break
        click_and_wait(page, page.locator("#gs-next"))
    step = path(page)
    record.get_by_label("Theme").select_option(index=0)
    record.get_by_label("What we agree").fill(AGREEMENT)
    record.get_by_role("button", name="Record the agreement").click()
    expect(page.locator("main")).to_contain_text(AGREEMENT)
    assert path(page) == step

    # The leaders are told by e-mail, by the sender; the link signs the leader in on the shared report.
    smtp_server.clear()
    send_mail()
    assert sorted(smtp_server.recipients()) == sorted(leaders)
    (notice,) = smtp_server.to(ADDED)
    (told,) = set(NOTICE_LINK.findall(notice.text))
    reader = new_page(language="en")
    reader.goto(told)
    click_and_wait(reader, reader.get_by_role("button", name="Sign in to Gensidig"))
    assert path(reader) == f"/team/{round_.public_id}/"
    expect(reader.locator("h1")).to_contain_text(team.name)
    assert_accessible(reader)
