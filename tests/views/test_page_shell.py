"""The page shell's kept pieces (templatetags/shell.py): the header, the language switch, the
footer and the report's toolbar are rendered once per language and what they show, and the
reader's own form token and address are put in on every page.

Each test would fail if a piece were kept with the wrong key: an old organisation name, another
language, another page's address, a token that is not this response's, or a toolbar that still
offers to share a report already shared.
"""

import re

import pytest
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.urls import reverse

from gensidig.models import Organisation, OrganisationAdmin

from ..factories import closed_round, make_team
from .test_report_views import sign_in

pytestmark = pytest.mark.django_db

FORM_TOKENS = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
NEXT_FIELD = re.compile(r'name="next" value="([^"]*)"')


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_navigation_shows_a_renamed_organisation_and_a_right_taken_away_at_once(client):
    team = make_team(leaders=5)
    sign_in(client, team)
    organisation = Organisation.objects.create(slug="hr-kommune", name="Gammel Kommune")
    admin = OrganisationAdmin.objects.create(organisation=organisation, user=team.chief.user)
    help_url = reverse("gensidig:help")
    assert "Gammel Kommune" in page(client, help_url)

    Organisation.objects.filter(pk=organisation.pk).update(name="Ny Kommune")
    html = page(client, help_url)
    assert "Ny Kommune" in html and "Gammel Kommune" not in html

    admin.delete()
    html = page(client, help_url)
    assert "Ny Kommune" not in html and 'href="/org/hr-kommune/"' not in html


def test_every_page_gets_its_own_working_form_token_and_its_own_address_to_return_to():
    team = make_team(leaders=5)
    client = Client(enforce_csrf_checks=True)
    sign_in(client, team)
    first = page(client, reverse("gensidig:help") + "?q=it's&x=1")
    second = page(client, reverse("gensidig:about"))

    first_tokens, second_tokens = FORM_TOKENS.findall(first), FORM_TOKENS.findall(second)
    assert len(first_tokens) >= 2  # the language switch and signing out
    assert not set(first_tokens) & set(second_tokens)  # masked afresh, never a kept one
    secret = client.cookies["csrftoken"].value
    assert all(_unmask_cipher_token(token) == secret for token in first_tokens + second_tokens)

    # Each page's language switch returns to that page, its address escaped.
    assert NEXT_FIELD.findall(first) == ["/help/?q=it&#x27;s&amp;x=1"]
    assert NEXT_FIELD.findall(second) == [reverse("gensidig:about")]

    # The token in the kept sign-out form is accepted.
    response = client.post(reverse("gensidig:logout"), {"csrfmiddlewaretoken": second_tokens[-1]})
    assert response.status_code == 302
    assert client.get(reverse("gensidig:home")).wsgi_request.user.is_authenticated is False


def test_the_shell_follows_the_reader_language_and_whether_they_are_signed_in(client):
    team = make_team(leaders=5)
    help_url = reverse("gensidig:help")
    signed_out = page(client, help_url)
    assert 'href="/login/"' in signed_out and reverse("gensidig:logout") not in signed_out

    sign_in(client, team)
    danish = page(client, help_url)
    assert reverse("gensidig:logout") in danish and 'href="/login/"' not in danish
    client.post(reverse("set_language"), {"language": "en", "next": help_url})
    english = page(client, help_url)
    assert "Sign out" in english and "Sign out" not in danish
    assert '<html lang="en">' in english


def test_the_report_toolbar_follows_sharing_and_carries_this_page_token():
    team = make_team(leaders=6)
    round_ = closed_round(team, answering=6)
    client = Client(enforce_csrf_checks=True)
    sign_in(client, team)
    url = reverse("gensidig:report", args=[round_.public_id])
    before = page(client, url)
    assert 'name="share" value="yes"' in before and 'name="share" value="no"' not in before

    token = FORM_TOKENS.findall(before)[-1]
    response = client.post(
        reverse("gensidig:share", args=[round_.public_id]), {"share": "yes", "csrfmiddlewaretoken": token}
    )
    assert response.status_code in (200, 302)
    after = page(client, url)
    assert 'name="share" value="no"' in after and 'name="share" value="yes"' not in after
    assert not set(FORM_TOKENS.findall(before)) & set(FORM_TOKENS.findall(after))
