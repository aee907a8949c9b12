"""The answer form's body read by views.form_body: the same QueryDict as Django's, the same CSRF check."""

from urllib.parse import urlencode

import pytest
from django.core.exceptions import TooManyFieldsSent
from django.http import QueryDict
from django.test import Client, override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from gensidig.models import Ballot
from gensidig.models.choices import Role
from gensidig.views.form_body import urlencoded_form

from ..factories import leader_links, start_round
from .test_answer_flow import ANSWER_URL, full_post, used

URLENCODED = "application/x-www-form-urlencoded"
# Names and values as a form sends them, and the characters that escaping is about.
TEXT = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("%+&=; \x00æøå\U0001f600"), max_size=30)


def same_as_django(body: bytes) -> None:
    ours, django = urlencoded_form(body), QueryDict(body, encoding="utf-8")
    assert {key: ours.getlist(key) for key in ours} == {key: django.getlist(key) for key in django}
    assert list(ours) == list(django)
    assert not ours._mutable


@given(st.lists(st.tuples(TEXT, TEXT), max_size=12))
@settings(max_examples=300, deadline=None)
def test_a_form_body_reads_as_django_reads_it(fields):
    same_as_django(urlencode(fields).encode())


@given(st.binary(max_size=200) | st.text(alphabet="ab=&%+2Fc0;", max_size=60).map(str.encode))
@settings(max_examples=300, deadline=None)
def test_any_body_whatever_its_escapes_and_bytes_reads_as_django_reads_it(body):
    same_as_django(body)


@override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=3)
def test_a_body_with_more_fields_than_allowed_is_refused_as_django_refuses_it():
    same_as_django(b"a=1&b=2&c=3")
    for body in (b"a=1&b=2&c=3&d=4", b"a&&&"):
        with pytest.raises(TooManyFieldsSent):
            QueryDict(body)
        with pytest.raises(TooManyFieldsSent):
            urlencoded_form(body)


@pytest.fixture
def opened(team):
    return start_round(team)


def post_form(client, data, **extra):
    return client.post(ANSWER_URL, urlencode(data), content_type=URLENCODED, **extra)


@pytest.mark.django_db
def test_the_last_page_sent_as_a_browser_sends_it_stores_one_ballot(client, opened):
    round_, links = opened
    client.get(f"/a/{leader_links(links)[0].token}/")
    response = post_form(
        client, full_post(round_, Role.LEADER, value="3", **{"comment-direction": "Tak & 100% ærligt"})
    )
    assert response.status_code == 303 and response["Location"] == "/answer/thanks/"
    assert used(round_) == 1 and Ballot.objects.filter(round=round_).count() == 1


@pytest.mark.django_db
def test_the_csrf_check_still_refuses_a_form_without_its_token(opened):
    round_, links = opened
    strict = Client(enforce_csrf_checks=True)
    strict.get(f"/a/{leader_links(links)[0].token}/")
    response = post_form(strict, full_post(round_, Role.LEADER))
    assert response.status_code == 403
    assert used(round_) == 0 and not Ballot.objects.filter(round=round_).exists()


@pytest.mark.django_db
def test_the_csrf_check_accepts_the_token_of_the_form_it_was_given(opened):
    round_, links = opened
    strict = Client(enforce_csrf_checks=True)
    strict.get(f"/a/{leader_links(links)[0].token}/")
    page = strict.get(f"{ANSWER_URL}?opened=1")
    token = page.content.decode().split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = post_form(strict, {"csrfmiddlewaretoken": token, **full_post(round_, Role.LEADER)})
    assert response.status_code == 303
    assert used(round_) == 1


@pytest.mark.django_db
def test_a_form_from_another_site_is_refused_even_with_a_token(opened):
    round_, links = opened
    strict = Client(enforce_csrf_checks=True)
    strict.get(f"/a/{leader_links(links)[0].token}/")
    page = strict.get(f"{ANSWER_URL}?opened=1")
    token = page.content.decode().split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = post_form(
        strict,
        {"csrfmiddlewaretoken": token, **full_post(round_, Role.LEADER)},
        headers={"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert used(round_) == 0


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=20)
def test_too_many_fields_get_a_400_and_store_nothing(client, opened):
    round_, links = opened
    client.get(f"/a/{leader_links(links)[0].token}/")
    response = post_form(client, full_post(round_, Role.LEADER))
    assert response.status_code == 400
    assert used(round_) == 0
