"""HR's daily work in the browser, without a shell: sign in with a link from the e-mail, add a
person, move a manager and see the teams follow, make another HR admin, and edit a draft campaign.

On the way, every page HR uses for people, teams, admins and the import's guard is checked with
axe-core at desktop and at phone width. The browser speaks English (the Danish pages are the same
templates); a real SMTP server (aiosmtpd) carries the sign-in link.
"""

from __future__ import annotations

import datetime
import re
from urllib.parse import urlparse

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from gensidig.models import Campaign, OrganisationAdmin, Person, Team
from gensidig.services.access import add_admin
from gensidig.services.campaigns import create_campaign
from gensidig.services.organisation.chart import apply_import, read_chart
from gensidig.services.organisation.people import deactivate_person
from gensidig.services.signin import send_sign_in_links

from .. import smtp
from .conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)
smtp_server = smtp.smtp_server  # a real SMTP server on a free port, Django's mailer pointed at it

SLUG = "solby"
ADMIN = "hr@solby.dk"
SIGN_IN_LINK = re.compile(r"(https?://\S+?/login/link/[A-Za-z0-9_\-]+/)")
ROWS = [
    ("direktoer@solby.dk", "Dorthe Direktør", "", "Direktionen"),
    ("chef.aeldre@solby.dk", "Søren Ærø", "direktoer@solby.dk", "Ældre og Sundhed"),
    ("chef.boern@solby.dk", "Åse Mølgaard", "direktoer@solby.dk", "Børn og Unge"),
    *[
        (f"leder{i}.aeldre@solby.dk", f"Leder Ældre {i}", "chef.aeldre@solby.dk", f"Plejecenter {i}")
        for i in range(1, 5)
    ],
    *[(f"leder{i}.boern@solby.dk", f"Leder Børn {i}", "chef.boern@solby.dk", f"Skole {i}") for i in range(1, 4)],
    ("tidligere@solby.dk", "Tove Tidligere", "chef.boern@solby.dk", "Skole 9"),
]


def path(page: Page) -> str:
    return urlparse(page.url).path


def submit(page: Page, name: str):
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=name, exact=True).click()
    return navigation.value


def leaders_of(page: Page, team: str) -> str:
    """The leaders' cell of a team's row on the teams page."""
    row = page.locator("main table tbody tr", has=page.locator("th", has_text=team))
    return row.locator("td").nth(1).inner_text().strip()


class Checker:
    """Runs axe on a page as HR sees it, at desktop width and at phone width (a second, signed-in browser)."""

    def __init__(self, desktop: Page, phone: Page):
        self.desktop, self.phone = desktop, phone

    def both(self, url: str | None = None) -> None:
        assert_accessible(self.desktop)
        self.phone.goto(url or path(self.desktop))
        expect(self.phone.locator("h1")).to_have_text(self.desktop.locator("h1").inner_text())
        assert_accessible(self.phone)


def sign_in_with_link(page: Page, server: smtp.SmtpServer, email: str) -> None:
    page.goto("/login/link/")
    page.locator("#id_email").fill(email)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("Check your e-mail")
    send_sign_in_links()  # the sender, as `gensidig send-mail` runs it
    (mail,) = server.to(email)
    (url,) = set(SIGN_IN_LINK.findall(mail.text))
    page.goto(url)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert path(page) == "/"


def the_organisation() -> Campaign:
    chart = read_chart(
        data=("email;name;manager_email;unit\n" + "\n".join(";".join(row) for row in ROWS)).encode(),
        filename="solby.csv",
    )
    organisation = apply_import(organisation_slug=SLUG, organisation_name="Solby Kommune", chart=chart).organisation
    add_admin(email=ADMIN, organisation_slug=SLUG)
    deactivate_person(organisation=organisation, person=Person.objects.get(email="tidligere@solby.dk"))
    return create_campaign(
        organisation=organisation,
        name="Forårsrunden",
        root_team=None,
        opens_on=timezone.localdate() + datetime.timedelta(days=7),
        closes_at=timezone.now() + datetime.timedelta(days=30),
    )


def hr_adds_a_person(hr: Page, check: Checker) -> None:
    hr.get_by_role("navigation", name="Administration").get_by_role("link", name="People").click()
    check.both()
    hr.get_by_role("link", name="Add a person").click()
    expect(hr.locator("h1")).to_have_text("Add a person")
    check.both()
    # Saved empty: the error summary leads to the fields.
    assert submit(hr, "Add the person").status == 400
    expect(hr.locator("#error-summary")).to_contain_text("Write the person's name.")
    assert_accessible(hr)
    hr.get_by_label("Name", exact=True).fill("Nina Nygaard")
    hr.get_by_label("E-mail address", exact=True).fill("Nina.Nygaard@solby.dk")
    hr.get_by_label("Unit", exact=True).fill("Plejecenter 1, afsnit Nord")
    hr.get_by_label("Manager's e-mail address").fill("leder1.aeldre@solby.dk")
    submit(hr, "Add the person")
    expect(hr.locator(".gs-messages")).to_contain_text("Nina Nygaard is added to the org chart.")
    expect(hr.locator("main table tbody")).to_contain_text("nina.nygaard@solby.dk")
    # Her manager now leads a team of one, under the chief's team.
    hr.get_by_role("navigation", name="Administration").get_by_role("link", name="Teams").click()
    assert leaders_of(hr, "Plejecenter 1").startswith("1")


def hr_moves_a_manager(hr: Page, check: Checker) -> None:
    assert leaders_of(hr, "Ældre og Sundhed").startswith("4") and leaders_of(hr, "Børn og Unge").startswith("3")
    hr.get_by_role("navigation", name="Administration").get_by_role("link", name="People").click()
    hr.get_by_label("Search by name, e-mail or unit").fill("leder4.aeldre")
    hr.get_by_role("button", name="Search").click()
    hr.get_by_role("link", name="Edit Leder Ældre 4").click()
    expect(hr.locator("h1")).to_contain_text("Leder Ældre 4")
    check.both()
    manager = hr.get_by_label("Manager's e-mail address")
    expect(manager).to_have_value("chef.aeldre@solby.dk")
    manager.fill("chef.boern@solby.dk")
    submit(hr, "Save the changes")
    expect(hr.locator(".gs-messages")).to_contain_text("The changes to Leder Ældre 4 are saved.")
    hr.get_by_role("navigation", name="Administration").get_by_role("link", name="Teams").click()
    assert leaders_of(hr, "Ældre og Sundhed").startswith("3")
    assert leaders_of(hr, "Børn og Unge").startswith("4")

    # A chief cannot report to someone who reports to them.
    hr.goto(f"/org/{SLUG}/people/{Person.objects.get(email='chef.boern@solby.dk').pk}/")
    hr.get_by_label("Manager's e-mail address").fill("leder1.boern@solby.dk")
    assert submit(hr, "Save the changes").status == 400
    expect(hr.locator("#error-summary")).to_contain_text("go round in a circle")
    assert_accessible(hr)


def hr_looks_at_the_other_people_and_team_pages(hr: Page, check: Checker) -> None:
    chief = Person.objects.get(email="chef.boern@solby.dk")
    hr.goto(f"/org/{SLUG}/people/{chief.pk}/deactivate/")
    expect(hr.get_by_label("Who their reports will report to")).to_have_value("direktoer@solby.dk")
    check.both()
    left = Person.objects.get(email="tidligere@solby.dk")
    hr.goto(f"/org/{SLUG}/people/{left.pk}/reactivate/")
    check.both()

    hr.get_by_role("navigation", name="Administration").get_by_role("link", name="Teams").click()
    check.both()
    hr.get_by_role("link", name="Create a team").click()
    check.both()
    hr.get_by_role("navigation", name="Administration").get_by_role("link", name="Teams").click()
    hr.get_by_role("link", name="Rename Børn og Unge").click()
    check.both()
    hr.get_by_label("Team name").fill("Børn, Unge og Familie")
    submit(hr, "Save the name")
    expect(hr.locator(".gs-messages")).to_contain_text("“Børn og Unge” is now called “Børn, Unge og Familie”.")
    assert Team.objects.get(chief=chief, active=True).named_by_hr
    hr.get_by_role("link", name="Dissolve Børn, Unge og Familie").click()
    expect(hr.get_by_label("Who the leaders will report to")).to_have_value("direktoer@solby.dk")
    check.both()


def hr_makes_another_admin(hr: Page, check: Checker) -> None:
    hr.get_by_role("navigation", name="Administration").get_by_role("link", name="Admins").click()
    check.both()
    hr.get_by_label("E-mail address").fill("Kollega@solby.dk")
    submit(hr, "Add the admin")
    expect(hr.locator(".gs-messages")).to_contain_text("kollega@solby.dk is now an admin.")
    expect(hr.locator("main table")).to_contain_text("kollega@solby.dk")
    assert OrganisationAdmin.objects.filter(organisation__slug=SLUG, user__email="kollega@solby.dk").exists()
    check.both()


def hr_is_asked_before_a_partial_chart_makes_people_leave(hr: Page, check: Checker) -> None:
    hr.get_by_role("navigation", name="Administration").get_by_role("link", name="Import org chart").click()
    expect(hr.locator("main")).to_contain_text("leders e-mail")
    check.both()
    partial = "email;name;manager_email;unit\n" + "\n".join(";".join(row) for row in ROWS[:5])
    active = Person.objects.filter(organisation__slug=SLUG, active=True).count()
    hr.get_by_label("Org chart (CSV or Excel)").set_input_files(
        [{"name": "del.csv", "mimeType": "text/csv", "buffer": partial.encode()}]
    )
    submit(hr, "Upload and preview")
    expect(hr.locator("main")).to_contain_text(f"This import makes {active - 5} of {active} people leave the org chart")
    check.both()
    assert submit(hr, "Apply the import").status == 400
    expect(hr.locator("#error-summary")).to_contain_text(f"Confirm that {active - 5} people leave the org chart")
    assert_accessible(hr)
    assert Person.objects.filter(organisation__slug=SLUG, active=True).count() == active  # nothing imported


def hr_edits_the_draft_campaign(hr: Page, campaign: Campaign) -> None:
    # Written against the contract of the campaigns' edit page (its own tests are the campaigns').
    hr.goto(f"/org/{SLUG}/campaigns/{campaign.public_id}/")
    hr.get_by_role("link", name="Edit the campaign").click()
    expect(hr.get_by_label("Who takes part")).to_be_visible()
    expect(hr.get_by_label("Opens on")).to_be_visible()
    expect(hr.get_by_label("Closes on")).to_be_visible()
    hr.get_by_label("Name", exact=True).fill("Forårsrunden 2027")
    submit(hr, "Save the campaign")
    assert path(hr) == f"/org/{SLUG}/campaigns/{campaign.public_id}/"
    expect(hr.locator("main")).to_contain_text("Forårsrunden 2027")
    campaign.refresh_from_db()
    assert campaign.name == "Forårsrunden 2027"


def test_hr_does_the_daily_work_in_the_browser(new_page, live_server, settings, smtp_server):
    settings.SITE_URL = live_server.url
    settings.GENSIDIG_IMPORT_CONFIRM_LEAVING_SHARE = 0.10
    campaign = the_organisation()

    hr = new_page(language="en")
    sign_in_with_link(hr, smtp_server, ADMIN)
    phone = new_page(phone=True, language="en")
    phone.context.add_cookies(hr.context.cookies())  # the same signed-in HR, on a phone
    check = Checker(hr, phone)
    hr.goto(f"/org/{SLUG}/")

    hr_adds_a_person(hr, check)
    hr_moves_a_manager(hr, check)
    hr_looks_at_the_other_people_and_team_pages(hr, check)
    hr_makes_another_admin(hr, check)
    hr_is_asked_before_a_partial_chart_makes_people_leave(hr, check)
    hr_edits_the_draft_campaign(hr, campaign)
