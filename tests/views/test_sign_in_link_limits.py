"""Asking for sign-in links, as an attacker would: the same address again and again, or many from one client."""

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from gensidig.models import RateLimitHit, SignInRequest

from ..factories import make_team

pytestmark = pytest.mark.django_db

ASK = reverse("gensidig:sign-in-link")


def ask(client, email, *, address="198.51.100.70"):
    return client.post(ASK, {"email": email}, REMOTE_ADDR=address)


def test_one_address_gets_its_share_of_requests_and_then_a_clear_refusal(client):
    chief = make_team(leaders=0).chief
    limit = settings.GENSIDIG_SIGN_IN_LINK_REQUESTS_PER_ADDRESS
    answers = [ask(client, chief.email, address=f"203.0.113.{i + 1}") for i in range(limit + 3)]
    assert [a.status_code for a in answers] == [200] * limit + [429] * 3
    assert SignInRequest.objects.count() == limit  # nothing queued once refused
    assert int(answers[-1]["Retry-After"]) == 3600


def test_a_refusal_looks_the_same_for_an_address_nobody_has(client):
    chief = make_team(leaders=0).chief
    limit = settings.GENSIDIG_SIGN_IN_LINK_REQUESTS_PER_ADDRESS
    for email in (chief.email, "nobody@nowhere.example"):
        for i in range(limit):
            ask(client, email, address=f"192.0.2.{i + 1}")
    known, unknown = (
        ask(client, chief.email, address="192.0.2.99"),
        ask(client, "nobody@nowhere.example", address="192.0.2.98"),
    )
    assert known.status_code == unknown.status_code == 429
    strip = lambda page: page.content.decode().split('name="csrfmiddlewaretoken"')[0]  # noqa: E731
    assert strip(known) == strip(unknown)


@override_settings(GENSIDIG_SIGN_IN_LINK_REQUESTS_PER_CLIENT=8)
def test_one_client_asking_for_many_addresses_is_stopped_and_others_are_not(client):
    answers = [ask(client, f"guess{i}@kommune.example") for i in range(12)]
    assert [a.status_code for a in answers] == [200] * 8 + [429] * 4
    assert "netværk" in answers[-1].content.decode()
    assert ask(client, "someone@kommune.example", address="198.51.100.71").status_code == 200


def test_the_counts_keep_no_address(client):
    ask(client, "kim@kommune.example")
    stored = " ".join(RateLimitHit.objects.values_list("key", flat=True))
    assert "kim" not in stored and "198.51.100.70" not in stored
