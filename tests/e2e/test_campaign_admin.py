"""HR edits a draft campaign in the browser, and the new campaign pages pass axe on a desktop and a phone."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from gensidig.models import Campaign, Invitation, InvitationMail, Organisation, Round
from gensidig.models.choices import Role
from gensidig.services.access import add_admin
from gensidig.services.campaigns import create_campaign, launch_campaign
from gensidig.services.mail.reminders import send_reminders
from gensidig.services.organisation.chart import apply_import, read_chart
from gensidig.services.survey.rounds import reissue_links

from ..factories import answer, answers_for
from .conftest import assert_accessible
from .test_report import click_and_wait, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN, PASSWORD = "hr@solby.dk", "hr-password-1"
CHART = [("top@solby.dk", "Top", "", "Direktionen")]
CHART += [(f"chef{c}@solby.dk", f"Chef {c}", "top@solby.dk", f"Område {c}") for c in "12"]
CHART += [(f"l{c}{i}@solby.dk", f"Leder {c}{i}", f"chef{c}@solby.dk", f"Område {c}") for c in "12" for i in range(5)]


@pytest.fixture
def campaign():
    lines = ["email;name;manager_email;unit"] + [";".join(row) for row in CHART]
    chart = read_chart(data="\n".join(lines).encode(), filename="chart.csv")
    organisation = apply_import(organisation_slug="solby", organisation_name="Solby", chart=chart).organisation
    Organisation.objects.filter(pk=organisation.pk).update(languages=["da", "en"])
    _organisation, user = add_admin(email=ADMIN, organisation_slug="solby")
    user.set_password(PASSWORD)
    user.save()
    return create_campaign(
        organisation=organisation,
        name="Forår",
        root_team=None,
        opens_on=timezone.localdate(),
        closes_at=timezone.now() + datetime.timedelta(days=14),
    )


def campaign_path(campaign, page: str = "") -> str:
    return f"/org/solby/campaigns/{campaign.public_id}/{page}"


def test_hr_edits_a_draft_campaign_through_its_page(new_page, campaign):
    page: Page = new_page(language="en")
    sign_in(page, ADMIN, PASSWORD)
    page.goto(campaign_path(campaign))
    click_and_wait(page, page.get_by_role("link", name="Edit the campaign"))
    expect(page.get_by_label("Name", exact=True)).to_have_value("Forår")
    expect(page.get_by_label("Who takes part")).to_be_visible()
    expect(page.get_by_label("Opens on")).to_be_visible()
    closes_on = page.get_by_label("Closes on")
    assert_accessible(page)

    # A closing date before the opening date: a clear message, and focus can reach it.
    closes_on.fill(timezone.localdate().isoformat())
    click_and_wait(page, page.get_by_role("button", name="Save the campaign"))
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Name", exact=True).fill("Efterår 2027")
    page.get_by_label("Who takes part").select_option(label="Område 1")
    closes_on.fill((timezone.localdate() + datetime.timedelta(days=30)).isoformat())
    click_and_wait(page, page.get_by_role("button", name="Save the campaign"))
    assert page.url.endswith(campaign_path(campaign))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Efterår 2027")
    campaign.refresh_from_db()
    assert campaign.name == "Efterår 2027" and campaign.root_team.name == "Område 1"


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_edit_delete_and_email_pages_pass_axe(new_page, campaign, phone):
    page: Page = new_page(phone=phone)
    sign_in(page, ADMIN, PASSWORD)
    for path in ("edit/", "delete/", "preview-mail/"):
        page.goto(campaign_path(campaign, path))
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_accessible(page)
    # Nothing may stick out sideways on a phone (WCAG 1.4.10): the e-mails wrap to the screen.
    width = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert width <= 0
    expect(page.locator("pre.gs-mail-text")).to_have_count(8)

    page.goto(campaign_path(campaign, "delete/"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Forår")
    click_and_wait(page, page.locator("main form button[type=submit]"))
    assert page.url.endswith("/org/solby/campaigns/")
    assert not Campaign.objects.filter(pk=campaign.pk).exists()


def test_hr_sends_a_reminder_now_and_the_page_shows_its_count_once_it_has_gone(new_page, campaign):
    launch_campaign(campaign=campaign)
    InvitationMail.objects.update(status="sent")  # the invitations have gone out
    for round_ in Round.objects.filter(campaign=campaign).select_related("team"):
        wanted = {"Område 1": 5, "Område 2": 3}.get(round_.team.name, 0)  # enough for the total to be shown
        for link in [link for link in reissue_links(round_=round_) if link.role == Role.LEADER][:wanted]:
            answer(link, answers_for(round_, Role.LEADER, 4))
    page: Page = new_page(language="en")
    sign_in(page, ADMIN, PASSWORD)
    page.goto(campaign_path(campaign))
    click_and_wait(page, page.get_by_role("button", name="Send a reminder now"))
    expect(page.locator("#mail-progress")).to_contain_text("A reminder sent by hand is on its way")
    assert_accessible(page)

    report = send_reminders()  # the sender's next run

    unanswered = Invitation.objects.filter(round__campaign=campaign, used=False).count()
    assert report.sent == unanswered
    # The page was polling; it reloads by itself and shows the count beside the participation total.
    expect(page.locator(".gs-reminders")).to_have_text(
        f"Reminder sent by hand, no. 1: {unanswered} sent", timeout=10_000
    )
    expect(page.locator("#mail-progress")).not_to_contain_text("on its way")
