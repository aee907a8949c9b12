"""The pages of issue 11 in Chromium, at desktop and phone width: axe-clean, in Danish and English.

HR's audit trail, one person's data and their erasure; the pauses after too many sign-in attempts
or link requests; and the pages for a body too large and a database that is not there.
"""

import datetime

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client, RequestFactory
from django.utils import timezone, translation
from playwright.sync_api import expect

from gensidig.models import Person, User
from gensidig.services import audit_trail
from gensidig.services.access import add_admin
from gensidig.services.organisation.chart import apply_import, read_chart
from gensidig.views.errors import database_unavailable, too_large

from .conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

CHART = "email;name;manager_email;unit\ntop@k.dk;Top;;A\nkim@k.dk;Kim Leder;top@k.dk;A\nal@k.dk;Al;top@k.dk;A\n"


@pytest.fixture
def organisation():
    found = apply_import(
        organisation_slug="k", organisation_name="Kommune K", chart=read_chart(data=CHART.encode(), filename="k.csv")
    ).organisation
    add_admin(email="hr@k.dk", organisation_slug="k")
    audit_trail.record("settings_changed", organisation=found, target="Kommune K", detail={"k": "5"})
    return found


def signed_in(new_page, live_server, email, **options):
    client = Client()
    client.force_login(User.objects.get(email=email))
    page = new_page(**options)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    return page


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_hrs_audit_trail_and_a_persons_data_and_erasure(new_page, live_server, organisation, phone):
    kim = Person.objects.get(email="kim@k.dk")
    Person.objects.filter(pk=kim.pk).update(active=False, left_on=timezone.localdate())
    for language in ("da", "en"):
        page = signed_in(new_page, live_server, "hr@k.dk", phone=phone, language=language)
        page.goto("/org/k/audit/")
        expect(page.locator("h1")).to_be_visible()
        expect(page.locator("table")).to_contain_text("hr@k.dk" if language == "en" else "Kommune K")
        assert_accessible(page)
        page.goto(f"/org/k/people/{kim.pk}/data/")
        expect(page.locator("h1")).to_contain_text("Kim Leder")
        assert_accessible(page)
        page.goto(f"/org/k/people/{kim.pk}/erase/")
        assert_accessible(page)
    page.get_by_role("button", name="Erase the person").click()
    page.wait_for_load_state()
    assert Person.objects.get(pk=kim.pk).erased
    assert_accessible(page)


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_pause_after_too_many_passwords_is_clear_and_accessible(new_page, live_server, organisation, phone):
    AccessAttempt.objects.create(
        username="top@k.dk",
        ip_address="127.0.0.1",
        user_agent="",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
        attempt_time=datetime.datetime.now(datetime.UTC),
        get_data="",
        post_data="",
        http_accept="",
        path_info="/login/",
    )
    page = new_page(phone=phone)
    page.goto("/login/")
    page.fill("input[name=username]", "top@k.dk")
    page.fill("input[name=password]", "whatever-it-is")
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.locator("form button[type=submit]").last.click()
    assert answer.value.status == 429
    with translation.override("da"):
        expect(page.locator("h1")).to_have_text(translation.gettext("Too many attempts to sign in"))
    assert_accessible(page)


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_pages_for_too_large_and_no_database_are_accessible(new_page, live_server, phone):
    request = RequestFactory().post("/login/", HTTP_ACCEPT_LANGUAGE="da")
    request.user = None
    for make in (lambda: too_large(request, limit=5 * 1024 * 1024), lambda: database_unavailable(request)):
        with translation.override("da"):
            html = make().content.decode()
        page = new_page(phone=phone)
        page.goto("/about/")  # same origin, for the style sheets
        page.set_content(html)
        expect(page.locator("h1")).to_be_visible()
        assert_accessible(page)
