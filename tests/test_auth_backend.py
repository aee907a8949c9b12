"""The signed-in user is read by a prepared query (gensidig/auth_backends.py): still Django's rules."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.urls import reverse

from gensidig.auth_backends import ModelBackend

from .factories import make_team
from .views.test_report_views import sign_in

pytestmark = pytest.mark.django_db


def test_the_signed_in_user_is_found_and_an_inactive_or_unknown_one_is_not(client):
    team = make_team(leaders=5)
    sign_in(client, team)
    assert client.session[BACKEND_SESSION_KEY] == "gensidig.auth_backends.ModelBackend"
    user = team.chief.user
    assert client.get(reverse("gensidig:home")).wsgi_request.user == user

    backend = ModelBackend()
    assert backend.get_user(str(user.pk)) == user  # the session holds the id as text
    assert backend.get_user(user.pk + 1000) is None
    assert backend.get_user("not a number") is None

    user.is_active = False
    user.save(update_fields=["is_active"])
    assert backend.get_user(str(user.pk)) is None
    assert client.get(reverse("gensidig:home")).wsgi_request.user.is_authenticated is False
