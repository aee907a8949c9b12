"""Token and id paths take only their alphabet: anything else is the neutral 404, never a 500."""

from urllib.parse import quote

import pytest
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gensidig.services.survey.tokens import looks_like_token

pytestmark = pytest.mark.django_db

PATHS = ["/login/link/{}/", "/a/{}/"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "token",
    ["æøå" * 14 + "x", "Å" * 43, "a" * 42, "a" * 44, "a" * 42 + ".", "a" * 42 + "%", "a" * 42 + "~", "💥" * 43],
    ids=lambda t: f"{len(t)}-{t[:3]}",
)
def test_a_token_outside_the_alphabet_gets_the_neutral_not_found_page(client, path, token):
    for method in (client.get, client.post):
        response = method(path.format(quote(token)))
        assert response.status_code == 404
        assert b"Siden findes ikke" in response.content or b"Page not found" in response.content


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.text(min_size=1, max_size=60).filter(lambda t: "/" not in t and "?" not in t and "#" not in t))
def test_no_token_of_any_characters_gives_a_server_error(client, token):
    for path in PATHS:
        for method in (client.get, client.post):
            response = method(path.format(quote(token, safe="")))
            assert response.status_code < 500, (path, token)
            if not looks_like_token(token):
                assert response.status_code in (301, 404), (path, token)


# Every URL with a public id (a round, team, campaign, agreement or upload) in its path, one of each.
PUBLIC_ID_PATHS = [
    "/rounds/{}/extend/",
    "/rounds/{}/agreements/{}/edit/",
    "/team/{}/",
    "/campaigns/{}/rollup/{}/",
    "/org/a/campaigns/{}/",
    "/org/a/import/{}/",
    "/org/a/teams/{}/rename/",
]


@pytest.mark.parametrize("path", PUBLIC_ID_PATHS)
@pytest.mark.parametrize("public_id", ["\x00", "a\x00b", "æøå", "a" * 17, "a.b", "a%b"], ids=repr)
def test_a_public_id_outside_its_alphabet_is_a_404_before_any_lookup(client, django_user_model, path, public_id):
    # A NUL reached the database's lookup, and PostgreSQL refuses to compare text with it: a 500.
    client.force_login(django_user_model.objects.create_user(email="someone@x.dk"))
    with pytest.raises(Resolver404):
        resolve(path.format(*[public_id] * path.count("{}")))
    url = path.format(*[quote(public_id, safe="")] * path.count("{}"))
    for method in (client.get, client.post):
        assert method(url).status_code == 404, url
