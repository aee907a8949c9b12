"""Answering through a link with Django's test client: token handling, the steps, bad input."""

import html
import logging
import re

import pytest
from django.core import signing
from django.urls import reverse

from gensidig.forms.answer import comment_name, field_name
from gensidig.models import AnswerToken, Invitation
from gensidig.models.choices import Role
from gensidig.services.survey.closing import close_round
from gensidig.services.survey.questions import MAX_COMMENT_LENGTH, questions_for
from gensidig.services.survey.tokens import hash_token
from gensidig.views.answer import ANSWER_COOKIE

from ..counters import comments, counts, total
from ..factories import chief_link, leader_links, start_round

pytestmark = pytest.mark.django_db
ANSWER_URL = reverse("gensidig:answer")
ERROR_LINK = re.compile(r'<li><a href="#([^"]+)-first">([^<]+)</a></li>')


@pytest.fixture
def opened(team):
    return start_round(team)


def visit(client, link):
    return client.get(f"/a/{link.token}/")


def full_post(round_, role, value="4", **extra):
    data = {field_name(key, scale): value for key, scale in questions_for(instrument=round_.instrument, role=role)}
    return {**data, "step": "6", "action": "send", **extra}


def used(round_):
    return Invitation.objects.filter(round=round_, used=True).count()


def counted(round_):
    return total(round_)


def test_opening_a_link_moves_the_token_into_a_cookie_for_the_answer_pages_and_redirects_away_from_it(client, opened):
    _round, links = opened
    link = leader_links(links)[0]
    response = visit(client, link)
    assert response.status_code == 302
    assert response["Location"] == ANSWER_URL
    assert link.token not in response["Location"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    cookie = response.cookies[ANSWER_COOKIE]
    assert cookie["path"] == ANSWER_URL and cookie["httponly"] and cookie["samesite"] == "Strict"
    assert link.token not in cookie.value and hash_token(link.token) not in cookie.value
    invitation_id = AnswerToken.objects.get(token_hash=hash_token(link.token)).invitation_id
    assert int(signing.TimestampSigner(salt="gensidig.answer-invitation").unsign(cookie.value)) == invitation_id
    assert "sessionid" not in response.cookies  # nothing about the respondent is kept on the server


@pytest.mark.parametrize("method", ["get", "head"])
def test_opening_a_link_never_uses_it_up(client, opened, method):
    round_, links = opened
    link = leader_links(links)[0]
    for _ in range(3):
        getattr(client, method)(f"/a/{link.token}/")
        getattr(client, method)(ANSWER_URL)
    assert used(round_) == 0


def test_the_intro_tells_the_threshold_before_anything_is_answered(client, opened):
    round_, links = opened
    visit(client, leader_links(links)[0])
    response = client.get(ANSWER_URL)
    assert response.status_code == 200
    assert response.context["k"] == round_.anonymity_threshold
    content = response.content.decode()
    assert f">{round_.anonymity_threshold}<" in content or f" {round_.anonymity_threshold} " in content
    assert round_.team.organisation.name in content  # the data controller in the privacy notice


def test_a_leader_answers_theme_by_theme_and_the_answers_travel_along(client, opened):
    round_, links = opened
    visit(client, leader_links(links)[0])
    questions = questions_for(instrument=round_.instrument, role=Role.LEADER)
    data = {}
    response = client.post(ANSWER_URL, {"step": "0", "action": "next"})
    assert response.context["step"].number == 1
    for number in range(1, 7):
        theme_key = response.context["step"].theme.key
        for key, scale in questions:
            if key.startswith(theme_key + "."):
                data[field_name(key, scale)] = "5" if scale == "importance" else "3"
        data[comment_name(theme_key)] = f"Kommentar om {theme_key} – æøå" if number == 2 else ""
        carried = dict(response.context["carried"])
        assert set(carried) <= set(data)
        action = "send" if number == 6 else "next"
        response = client.post(ANSWER_URL, {**carried, **data, "step": str(number), "action": action})
        if action == "next":
            assert response.status_code == 200, response.context.get("error_list")
            assert response.context["step"].number == number + 1
    assert response.status_code == 303
    assert response["Location"] == reverse("gensidig:answer-thanks")
    assert used(round_) == 1
    assert counted(round_) == len(questions)
    assert comments(round_) == [("autonomy", "Kommentar om autonomy – æøå")]
    assert client.get(ANSWER_URL).status_code == 404  # the link is used up; the same neutral page as any other


def test_a_new_link_sent_while_someone_answers_does_not_cut_them_off(client, opened):
    from gensidig.services.survey.rounds import reissue_links

    round_, links = opened
    visit(client, leader_links(links)[0])
    reissue_links(round_=round_)  # a reminder went out with a new link meanwhile
    assert client.post(ANSWER_URL, full_post(round_, Role.LEADER)).status_code == 303
    assert used(round_) == 1


def test_going_back_keeps_the_answers_of_the_page_left(client, opened):
    _round, links = opened
    visit(client, leader_links(links)[0])
    step_one = client.post(ANSWER_URL, {"step": "0", "action": "next"}).context["step"]
    name = step_one.fields[0].name
    back = client.post(ANSWER_URL, {"step": "2", "action": "back", name: "2"})
    assert back.context["step"].number == 1
    assert back.context["step"].fields[0].value == "2"


def test_a_missing_answer_is_shown_next_to_its_question_and_nothing_is_stored(client, opened):
    round_, links = opened
    visit(client, leader_links(links)[0])
    response = client.post(ANSWER_URL, {"step": "1", "action": "next"})
    assert response.status_code == 400
    assert response.context["step"].number == 1
    assert response.context["error_list"]
    assert 'id="error-summary"' in response.content.decode()
    assert all(f.errors for f in response.context["step"].fields if f.name.startswith("q-"))
    assert counted(round_) == 0


@pytest.mark.parametrize("role", [Role.LEADER, Role.CHIEF])
def test_each_link_in_the_error_summary_names_its_statement_and_scale_and_no_two_are_alike(client, opened, role):
    _round, links = opened
    visit(client, leader_links(links)[0] if role == Role.LEADER else chief_link(links))
    data = {"step": "1", "action": "next"}
    if role == Role.LEADER:  # a comment over its limit with a null character: two errors on one field
        data[comment_name("direction")] = "x" * (MAX_COMMENT_LENGTH + 1) + "\x00"
    response = client.post(ANSWER_URL, data)
    assert response.status_code == 400
    summary = re.search(r'<div [^>]*id="error-summary".*?</ul>', response.content.decode(), flags=re.S).group(0)
    found = [(target, html.unescape(text)) for target, text in ERROR_LINK.findall(summary)]
    texts = [text for _target, text in found]
    assert len(found) == len(response.context["error_list"]) > 1
    assert len(set(texts)) == len(texts), texts
    step = response.context["step"]
    titles = {item.key: item.title for item in (*step.theme.needs, *step.theme.expectations)}
    expected = [
        f"{titles[question.item_key]} – "
        for question in (*step.needs, *step.expectations)
        for _field in question.fields
    ]
    statement_links = [text for target, text in found if target.startswith("f-q-")]
    assert len(statement_links) == len(expected)  # every rating on the page was left out
    for text, start in zip(statement_links, expected, strict=True):
        assert text.startswith(start) and len(text) > len(start) + 10, text  # the title, the scale, the error
    comment_links = [text for target, text in found if target.startswith("f-comment-")]
    assert len(comment_links) == (2 if role == Role.LEADER else 0)


def test_sending_with_an_earlier_page_incomplete_returns_to_that_page(client, opened):
    round_, links = opened
    visit(client, leader_links(links)[0])
    data = full_post(round_, Role.LEADER)
    missing = next(name for name in data if name.startswith("q-sparring."))
    del data[missing]
    response = client.post(ANSWER_URL, data)
    assert response.status_code == 400
    assert response.context["step"].theme.key == "sparring"
    assert used(round_) == 0 and counted(round_) == 0


@pytest.mark.parametrize(
    "spoil",
    [
        lambda d: {**d, next(k for k in d if k.startswith("q-")): "9"},
        lambda d: {**d, next(k for k in d if k.startswith("q-")): "-1"},
        lambda d: {**d, next(k for k in d if k.startswith("q-")): "drop table"},
        lambda d: {**d, "comment-direction": "x" * 5000},
        lambda d: {**d, "step": "x"},
        lambda d: {**d, "action": "delete"},
    ],
    ids=["above-scale", "below-scale", "not-a-number", "huge-comment", "odd-step", "odd-action"],
)
def test_bad_input_gets_a_clear_4xx_and_stores_nothing(client, opened, spoil):
    round_, links = opened
    visit(client, leader_links(links)[0])
    response = client.post(ANSWER_URL, spoil(full_post(round_, Role.LEADER)))
    assert 400 <= response.status_code < 500
    assert used(round_) == 0 and counted(round_) == 0


def test_odd_characters_in_a_comment_are_stored_as_text_not_markup(client, opened):
    round_, links = opened
    visit(client, leader_links(links)[0])
    text = "<script>alert(1)</script> \u202e ok 🙂"
    response = client.post(ANSWER_URL, full_post(round_, Role.LEADER, **{"comment-direction": text}))
    assert response.status_code == 303
    ((_theme, stored),) = comments(round_)
    assert "<script>" in stored and "\u202e" not in stored


def test_unknown_fields_are_ignored_and_cannot_add_answers(client, opened):
    round_, links = opened
    visit(client, leader_links(links)[0])
    data = full_post(round_, Role.LEADER, **{"q-direction.made-up-importance": "5", "comment-nope": "x"})
    assert client.post(ANSWER_URL, data).status_code == 303
    assert counted(round_) == len(questions_for(instrument=round_.instrument, role=Role.LEADER))


def test_a_leader_cannot_send_the_chiefs_questions(client, opened):
    round_, links = opened
    visit(client, leader_links(links)[0])
    response = client.post(ANSWER_URL, full_post(round_, Role.CHIEF))
    assert response.status_code == 400
    assert counted(round_) == 0


def test_the_chief_answers_the_mirror_form(client, opened):
    round_, links = opened
    visit(client, chief_link(links))
    step = client.post(ANSWER_URL, {"step": "0", "action": "next"}).context["step"]
    assert step.comment is None
    statements = [q.statement for q in step.needs]
    assert all(s.startswith("Jeg") or s.startswith("I ") for s in statements)
    response = client.post(ANSWER_URL, full_post(round_, Role.CHIEF, "3"))
    assert response.status_code == 303
    assert counts(round_, Role.CHIEF, "direction.core-task", "experience")[3] == 1
    assert total(round_, role=Role.CHIEF) == 60 == total(round_)


def test_used_unknown_and_expired_links_all_get_the_same_neutral_page(client, opened, team):
    round_, links = opened
    first, second = leader_links(links)[:2]
    visit(client, first)
    client.post(ANSWER_URL, full_post(round_, Role.LEADER))

    # Something that is not a token at all never reaches the answer pages: the address is a 404 like
    # any unknown address (it says nothing about anyone; see test_token_paths.py).
    assert client.__class__().get("/a/x/").status_code == 404
    pages = {}
    for label, token in [("used", first.token), ("unknown", "A" * 43)]:
        fresh = client.__class__()
        fresh.get(f"/a/{token}/")
        pages[label] = fresh.get(ANSWER_URL)
    close_round(round_=round_)
    expired = client.__class__()
    expired.get(f"/a/{second.token}/")
    pages["expired"] = expired.get(ANSWER_URL)

    statuses = {label: page.status_code for label, page in pages.items()}
    assert set(statuses.values()) == {404}, statuses
    bodies = {page.content.decode().split('name="csrfmiddlewaretoken" value="')[0] for page in pages.values()}
    assert len(bodies) == 1, "the page must not tell the cases apart"


def test_a_post_without_the_csrf_token_is_refused_with_a_clear_page(opened):
    from django.test import Client

    round_, links = opened
    strict = Client(enforce_csrf_checks=True)
    strict.get(f"/a/{leader_links(links)[0].token}/")
    response = strict.post(ANSWER_URL, full_post(round_, Role.LEADER))
    assert response.status_code == 403
    assert "expired" in response.content.decode().lower() or "udløbet" in response.content.decode().lower()
    assert counted(round_) == 0


def test_tokens_never_reach_the_log(opened):
    import io

    from gensidig.log_filters import RedactAnswerTokens

    _round, links = opened
    token = leader_links(links)[0].token
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactAnswerTokens())
    logger = logging.getLogger("gensidig.test.redaction")
    logger.addHandler(handler)
    try:
        logger.warning('"GET /a/%s/ HTTP/1.1" 302 0', token)
        logger.warning("Not Found: /a/" + token + "/")
    finally:
        logger.removeHandler(handler)
    assert token not in stream.getvalue()
    assert stream.getvalue().count("/a/[redacted]") == 2


def test_the_production_access_log_redacts_tokens_too(opened):
    from types import SimpleNamespace

    from gunicorn.config import Config

    from gensidig.serving import RedactingLogger

    _round, links = opened
    token = leader_links(links)[0].token
    request = SimpleNamespace(
        method="GET", path=f"/a/{token}/", query="", version=(1, 1), headers=[], uri=f"/a/{token}/"
    )
    response = SimpleNamespace(status="302 Found", sent=0, headers=[], response_length=0)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/a/{token}/",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"http://x/a/{token}/",
        "REMOTE_ADDR": "127.0.0.1",
    }
    atoms = RedactingLogger(Config()).atoms(response, request, environ, __import__("datetime").timedelta(0))
    assert token not in repr(atoms)


def test_a_flood_of_fields_is_refused_with_a_4xx(client, opened):
    round_, links = opened
    visit(client, leader_links(links)[0])
    flood = {**full_post(round_, Role.LEADER), **{f"x{i}": "1" for i in range(2000)}}
    response = client.post(ANSWER_URL, flood)
    assert response.status_code == 400
    assert used(round_) == 0 and counted(round_) == 0


def test_a_null_character_in_a_comment_is_refused_next_to_the_field(client, opened):
    round_, links = opened
    visit(client, leader_links(links)[0])
    response = client.post(ANSWER_URL, full_post(round_, Role.LEADER, **{"comment-teamwork": "a\x00b"}))
    assert response.status_code == 400
    assert response.context["step"].theme.key == "teamwork"
    assert response.context["step"].comment.errors
    assert used(round_) == 0
