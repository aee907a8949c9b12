"""Guessing passwords, as an attacker would: many wrong ones fast, then the right one.

Counted per account (any letter case) and per client address, in the database, so that every app
server shares the count; at the limit the account or the address is paused for the cool-off time.
"""

import datetime

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from gensidig.services.sign_in_limits import client_address

from ..factories import CHIEF_PASSWORD, make_team

pytestmark = pytest.mark.django_db

LOGIN = reverse("gensidig:login")


def try_password(client, email, password, *, address="198.51.100.7", language="da"):
    return client.post(
        LOGIN,
        {"username": email, "password": password},
        REMOTE_ADDR=address,
        HTTP_ACCEPT_LANGUAGE=language,
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_thirty_wrong_passwords_then_the_right_one_is_refused(client):
    chief = make_team(leaders=0).chief
    answers = [try_password(client, chief.email, f"guess-{i}") for i in range(30)]
    assert all(a.status_code in (200, 429) for a in answers)
    assert sum(a.status_code == 429 for a in answers) >= 30 - settings.AXES_FAILURE_LIMIT
    right = try_password(client, chief.email, CHIEF_PASSWORD)
    assert right.status_code == 429
    assert not signed_in(client)
    assert int(right["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()


def test_the_lockout_follows_the_account_in_any_letter_case_and_from_any_address(client):
    chief = make_team(leaders=0).chief
    for i in range(settings.AXES_FAILURE_LIMIT):
        try_password(client, chief.email.upper() if i % 2 else chief.email, "wrong", address=f"203.0.113.{i + 1}")
    assert try_password(client, chief.email, CHIEF_PASSWORD, address="192.0.2.200").status_code == 429
    assert not signed_in(client)


def test_one_address_trying_many_accounts_is_paused_but_others_are_not(client):
    team = make_team(leaders=0)
    other = make_team(leaders=0, organisation=team.organisation).chief
    for i in range(settings.AXES_FAILURE_LIMIT):
        try_password(client, f"someone{i}@kommune.example", "wrong", address="198.51.100.9")
    assert try_password(client, other.email, CHIEF_PASSWORD, address="198.51.100.9").status_code == 429
    assert not signed_in(client)
    # The same account from another address signs in: the pause was the address's, not the account's.
    assert try_password(client, other.email, CHIEF_PASSWORD, address="198.51.100.10").status_code == 302
    assert signed_in(client)


def test_a_right_password_before_the_limit_signs_in_and_clears_the_count(client):
    chief = make_team(leaders=0).chief
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        try_password(client, chief.email, "wrong")
    assert try_password(client, chief.email, CHIEF_PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        try_password(client, chief.email, "wrong")
    assert try_password(client, chief.email, CHIEF_PASSWORD).status_code == 302


def test_after_the_cool_off_the_right_password_works_again(client):
    chief = make_team(leaders=0).chief
    for _ in range(settings.AXES_FAILURE_LIMIT):
        try_password(client, chief.email, "wrong")
    assert try_password(client, chief.email, CHIEF_PASSWORD).status_code == 429
    later = settings.AXES_COOLOFF_TIME + datetime.timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=datetime.datetime.now(datetime.UTC) - later)
    assert try_password(client, chief.email, CHIEF_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("language", "words"), [("da", "for mange forsøg"), ("en", "too many attempts")], ids=["da", "en"]
)
def test_the_pause_is_explained_in_the_visitors_language_with_the_way_out(client, language, words):
    chief = make_team(leaders=0).chief
    for _ in range(settings.AXES_FAILURE_LIMIT):
        try_password(client, chief.email, "wrong", language=language)
    page = try_password(client, chief.email, "wrong", language=language)
    assert page.status_code == 429
    text = page.content.decode().lower()
    assert words in text
    assert reverse("gensidig:sign-in-link") in text
    assert chief.email not in text  # the page does not confirm which account it was


@override_settings(GENSIDIG_PROXY_COUNT=1)
def test_behind_one_proxy_the_client_is_the_address_the_proxy_recorded_not_what_the_client_claims(rf):
    forged = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.23")
    assert client_address(forged) == "198.51.100.23"
    direct = rf.get("/", REMOTE_ADDR="10.0.0.2")
    assert client_address(direct) == "10.0.0.2"


def test_without_a_proxy_forwarded_headers_are_ignored(rf):
    request = rf.get("/", REMOTE_ADDR="198.51.100.30", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_address(request) == "198.51.100.30"
