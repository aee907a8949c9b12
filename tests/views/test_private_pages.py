"""Signed-in pages never land in a shared cache or the browser's disk cache (Cache-Control: private, no-store)."""

import pytest
from django.urls import reverse

from .test_access import protected_urls, sign_in, world  # noqa: F401 - world is a fixture

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["hr@a.dk", "chief1@a.dk", "top@a.dk", "l10@a.dk"])
def test_every_page_a_signed_in_user_gets_is_private_and_not_stored(client, world, who):  # noqa: F811
    sign_in(client, who)
    pages = [("home", reverse("gensidig:home")), ("about", reverse("gensidig:about"))]
    pages += [(name, url) for name, url, methods in protected_urls(world) if "get" in methods.split()]
    for name, url in pages:
        response = client.get(url)
        control = {part.strip() for part in response.get("Cache-Control", "").split(",")}
        assert {"private", "no-store"} <= control, (who, name, response.status_code, response.get("Cache-Control"))


def test_public_pages_for_a_visitor_may_be_cached(client):
    # Nothing private on them; the middleware leaves them alone (static files are cached for ever).
    assert "no-store" not in client.get(reverse("gensidig:about")).get("Cache-Control", "")
