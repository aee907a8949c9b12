"""Token paths take only the token alphabet: anything else is the neutral 404, never a 500."""

from urllib.parse import quote

import pytest
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
