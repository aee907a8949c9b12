"""Answering in the browser: a leader's and a chief's way through the form, on a phone and without JavaScript.

The link is also followed from another site, as from webmail, where the browser does not send the
SameSite=Strict answer cookie on the redirect that sets it (the opening page's one extra hop).
"""

from __future__ import annotations

import html
import http.server
import re
import threading
from collections.abc import Callable, Iterator
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Page, Response, expect

from gensidig.forms.answer import field_name
from gensidig.models import Comment, Invitation, RatingCounter
from gensidig.models.choices import Role
from gensidig.services.survey.questions import questions_for
from gensidig.services.survey.tokens import hash_token, new_token
from gensidig.views.answer import ANSWER_COOKIE

from ..counters import comments, counts, total
from ..factories import answer, answers_for, chief_link, leader_links, start_round
from .conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

THEMES = 6
COMMENT = "Vi savner sparring på tværs – især før budgetforhandlingerne. Æbler, øl og å: æøå ÆØÅ."


def go(page: Page, action: str) -> Response:
    """Press one of the form's buttons (next, back, send) and wait for the page it leads to."""
    with page.expect_navigation() as navigation:
        page.locator(f"button[name=action][value={action}]").click()
    return navigation.value


def step_number(page: Page) -> int:
    return int(page.locator("form input[name=step]").input_value())


def radio_names(page: Page) -> list[str]:
    """The names of the radio groups on the page, in page order."""
    names: list[str] = []
    for radio in page.locator(".gs-answer-form input[type=radio]").all():
        name = radio.get_attribute("name")
        if name not in names:
            names.append(name)
    return names


def choose(page: Page, name: str, value: int) -> None:
    """Choose an answer the way a person does: by clicking its label.

    The design system lays the real (transparent) radio over the label's drawn circle, so the
    click lands on the label's words, at its right end, where nothing covers it.
    """
    label = page.locator(f'.form-group-radio:has(> input[name="{name}"][value="{value}"]) > label')
    box = label.bounding_box()
    label.click(position={"x": box["width"] - 4, "y": box["height"] / 2})


def expect_checked(page: Page, chosen: dict[str, int], names: list[str]) -> None:
    for name in names:
        expect(page.locator(f'input[type=radio][name="{name}"][value="{chosen[name]}"]')).to_be_checked()


def answer_step(page: Page, pick: Callable[[int, int], int], chosen: dict[str, int]) -> list[str]:
    """Answer every question on the current theme page with pick(step, question index)."""
    number = step_number(page)
    names = radio_names(page)
    assert names, "a theme page without questions"
    for index, name in enumerate(names):
        chosen[name] = pick(number, index)
        choose(page, name, chosen[name])
    return names


def varied(step: int, index: int) -> int:
    return (step + index) % 5 + 1


def answer_everything(
    page: Page, pick: Callable[[int, int], int] = varied, *, first: int = 1, chosen: dict[str, int] | None = None
) -> dict[str, int]:
    """Answer every theme from `first` on and send; from the intro page when first is 1."""
    if first == 1:
        go(page, "next")
    chosen = {} if chosen is None else chosen
    for number in range(first, THEMES + 1):
        assert step_number(page) == number
        answer_step(page, pick, chosen)
        response = go(page, "send" if number == THEMES else "next")
    assert response.status == 200
    assert urlparse(page.url).path == "/answer/thanks/"
    return chosen


def assert_counted_once(round_, role: str, chosen: dict[str, int]) -> None:
    """Each question got exactly one answer, the value chosen; the other role's got none.

    The round is still open, so nothing is in its counters yet: the sealed ballot is opened with
    the test master key (tests/counters.py), as closing the round would open it.
    """
    assert not RatingCounter.objects.filter(round=round_).exists(), "counted while the round is open"
    questions = questions_for(instrument=round_.instrument, role=role)
    assert {field_name(key, scale) for key, scale in questions} == set(chosen)
    for key, scale in questions:
        name = field_name(key, scale)
        assert counts(round_, role, key, scale) == {value: int(value == chosen[name]) for value in range(6)}, name
    assert total(round_, role=role) == len(questions)
    other = Role.CHIEF if role == Role.LEADER else Role.LEADER
    assert total(round_, role=other) == 0


def test_a_leader_answers_every_theme_and_the_link_is_then_used_up(page, team):
    round_, links = start_round(team, threshold=6)
    link = leader_links(links)[0]

    response = page.goto(f"/a/{link.token}/")
    assert response.status == 200
    assert link.token not in page.url
    assert urlparse(page.url).path == "/answer/"
    assert page.locator("html").get_attribute("lang") == "da"
    # The first list after "Your answers are anonymous" names the threshold before anything is asked.
    expect(page.locator("main > h2 + ul").first).to_contain_text("6")
    assert_accessible(page)

    go(page, "next")
    assert step_number(page) == 1
    first_names = radio_names(page)

    response = go(page, "next")
    assert response.status == 400
    assert step_number(page) == 1
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator("a")).to_have_count(len(first_names))
    for summary_link, name in zip(summary.locator("a").all(), first_names, strict=True):
        target = page.locator(summary_link.get_attribute("href"))
        expect(target).to_have_count(1)
        assert target.get_attribute("name") == name
        group = page.locator(".gs-scale-group").filter(has=target)
        message_id = group.get_attribute("aria-describedby")
        expect(group.locator(f"#{message_id}.form-error-message")).to_be_visible()
    expect(page.locator(".form-error-message")).to_have_count(len(first_names))
    expect(page.locator(".gs-comment .form-error-message")).to_have_count(0)  # the comment is optional
    assert_accessible(page)

    chosen: dict[str, int] = {}

    def pick(step: int, index: int) -> int:
        return 0 if (step, index) == (4, 1) else varied(step, index)

    answer_step(page, pick, chosen)
    comment = page.locator(".gs-comment textarea")
    comment.fill(COMMENT)
    comment_theme = comment.get_attribute("name").removeprefix("comment-")
    go(page, "next")

    second_names = answer_step(page, pick, chosen)
    go(page, "back")
    assert step_number(page) == 1
    expect_checked(page, chosen, first_names)
    expect(page.locator(".gs-comment textarea")).to_have_value(COMMENT)
    go(page, "next")
    assert step_number(page) == 2
    expect_checked(page, chosen, second_names)
    go(page, "next")

    answer_everything(page, pick, first=3, chosen=chosen)
    assert_accessible(page)

    response = page.goto(f"/a/{link.token}/")
    assert response.status == 404
    with translation.override("da"):
        expect(page.locator("h1")).to_have_text(gettext("This link cannot be used"))
    assert_accessible(page)

    assert list(chosen.values()).count(0) == 1
    assert_counted_once(round_, Role.LEADER, chosen)
    assert comments(round_) == [(comment_theme, COMMENT)]
    assert not Comment.objects.filter(round=round_).exists()  # written only when the round closes


def test_the_chief_answers_the_mirror_form_without_comments(page, team):
    round_, links = start_round(team)
    page.goto(f"/a/{chief_link(links).token}/")
    go(page, "next")

    chosen: dict[str, int] = {}
    for number in range(1, THEMES + 1):
        assert step_number(page) == number
        expect(page.locator("textarea")).to_have_count(0)
        answer_step(page, lambda step, index: (step * 2 + index) % 6, chosen)
        if number == 1:
            assert_accessible(page)
        response = go(page, "send" if number == THEMES else "next")
    assert response.status == 200
    assert urlparse(page.url).path == "/answer/thanks/"

    assert_counted_once(round_, Role.CHIEF, chosen)
    assert comments(round_) == []


def fits_the_width(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_a_leader_can_answer_on_a_phone(new_page, team):
    page = new_page(phone=True)
    round_, links = start_round(team)
    page.goto(f"/a/{leader_links(links)[0].token}/")
    assert fits_the_width(page)
    go(page, "next")

    assert step_number(page) == 1
    assert fits_the_width(page)
    chosen: dict[str, int] = {}
    answer_step(page, varied, chosen)
    assert_accessible(page)
    response = go(page, "next")
    assert response.status == 200
    assert step_number(page) == 2
    expect(page.locator(".gs-progress-list li[aria-current=step]")).to_have_count(1)
    expect(page.locator(".gs-progress-list li").nth(1)).to_have_attribute("aria-current", "step")
    # Nothing is stored until the last page is sent: no drafts on the server.
    assert total(round_) == 0


def test_the_whole_form_works_without_javascript(new_page, team):
    page = new_page(javascript=False)
    round_, links = start_round(team)
    page.goto(f"/a/{leader_links(links)[1].token}/")

    chosen = answer_everything(page)

    assert_counted_once(round_, Role.LEADER, chosen)


# --- Following the link from another site, as from webmail ------------------------------------


class Webmail:
    """A second site (127.0.0.1, where the live server is localhost) serving one page: a message with a link."""

    def __init__(self):
        self.body = b""
        webmail = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(webmail.body)))
                self.end_headers()
                self.wfile.write(webmail.body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/inbox"

    def message_linking_to(self, href: str, *, new_tab: bool) -> str:
        """Put a message with the link in the inbox (in a new tab, as webmail mostly opens links) and return its URL."""
        target = ' target="_blank" rel="noopener noreferrer"' if new_tab else ""
        self.body = (
            '<!DOCTYPE html><html lang="da"><head><meta charset="utf-8"><title>Indbakke</title></head>'
            f'<body><p>Hvad har du brug for fra din chef?</p><a href="{html.escape(href)}"{target}>Svar</a></body></html>'
        ).encode()
        return self.url


@pytest.fixture
def webmail() -> Iterator[Webmail]:
    mail = Webmail()
    thread = threading.Thread(target=mail.server.serve_forever, daemon=True)
    thread.start()
    yield mail
    mail.server.shutdown()
    mail.server.server_close()
    thread.join()


def open_from_elsewhere(page: Page, webmail: Webmail, href: str, origin: str) -> Page:
    """Click a link to `href` on a page of another site; returns the page the survey opens in.

    "blank" is a page with an opaque origin (about:blank filled in), so the click is a
    cross-site navigation; "webmail" and "webmail-new-tab" are a real second site.
    """
    if origin == "blank":
        page.set_content(f'<a href="{html.escape(href)}">Svar</a>')
    else:
        page.goto(webmail.message_linking_to(href, new_tab=origin == "webmail-new-tab"))
        assert urlparse(page.url).hostname == "127.0.0.1"
    link = page.get_by_role("link", name="Svar")
    if origin != "webmail-new-tab":
        link.click()
        return page
    with page.context.expect_page() as opened:
        link.click()
    return opened.value


def answer_cookie(page: Page) -> dict | None:
    found = [cookie for cookie in page.context.cookies() if cookie["name"] == ANSWER_COOKIE]
    assert len(found) <= 1, found
    return found[0] if found else None


def assert_no_session(page: Page) -> None:
    names = {cookie["name"] for cookie in page.context.cookies()}
    assert settings.SESSION_COOKIE_NAME not in names, names


def record_documents(page: Page, live_server) -> list[Response]:
    """Every page (navigation response) of the live server the page's context loads, in order."""
    documents: list[Response] = []

    def seen(response: Response) -> None:
        if response.url.startswith(live_server.url) and response.request.is_navigation_request():
            documents.append(response)

    page.context.on("response", seen)
    return documents


def sends_answer_cookie(response: Response) -> bool:
    return f"{ANSWER_COOKIE}=" in response.request.all_headers().get("cookie", "")


@pytest.mark.parametrize(
    ("origin", "javascript"),
    [("blank", True), ("webmail", True), ("webmail-new-tab", True), ("webmail", False)],
    ids=["opaque-origin", "other-site", "other-site-new-tab", "other-site-without-javascript"],
)
def test_a_link_followed_from_webmail_opens_the_survey_and_can_be_answered(
    new_page, live_server, team, webmail, origin, javascript
):
    """A SameSite=Strict cookie set while following a link from another site is not sent on that
    same redirect chain; the survey must still open on its intro page, not on the unusable page."""
    round_, links = start_round(team)
    link = leader_links(links)[0]
    invitation = Invitation.objects.get(tokens__token_hash=hash_token(link.token))
    href = f"{live_server.url}/a/{link.token}/"
    mail_page = new_page(javascript=javascript)
    documents = record_documents(mail_page, live_server)

    page = open_from_elsewhere(mail_page, webmail, href, origin)
    # The intro page, with the team's name and the button to start: not the neutral 404 page.
    expect(page.locator("form.gs-start button[name=action][value=next]")).to_be_visible()
    expect(page.locator("h1")).to_contain_text(team.name)
    assert urlparse(page.url).netloc == urlparse(live_server.url).netloc
    assert urlparse(page.url).path == "/answer/"
    assert link.token not in page.url

    # The way there: the link set the cookie and redirected (the token out of the URL at the first
    # visit); the browser, treating the chain as cross-site, did not send the Strict cookie on the
    # redirect, so the opening page took one more hop from our own page, which did.
    chain = [(urlparse(response.url).path, urlparse(response.url).query, response.status) for response in documents]
    assert chain == [(f"/a/{link.token}/", "", 302), ("/answer/", "", 200), ("/answer/", "opened=1", 200)], chain
    assert not sends_answer_cookie(documents[1]), "the click was not cross-site: this test would test nothing"
    assert sends_answer_cookie(documents[2])
    if javascript:  # axe needs it
        assert_accessible(page)

    cookie = answer_cookie(page)
    assert cookie is not None, page.context.cookies()
    assert cookie["sameSite"] == "Strict"
    assert cookie["httpOnly"] is True
    assert cookie["path"] == "/answer/"
    assert cookie["domain"] == urlparse(live_server.url).hostname
    assert link.token not in cookie["value"]
    assert_no_session(page)

    chosen = answer_everything(page)
    if javascript:
        assert_accessible(page)
    assert answer_cookie(page) is None  # deleted when the answers were sent
    assert_no_session(page)
    invitation.refresh_from_db()
    assert invitation.used
    assert_counted_once(round_, Role.LEADER, chosen)


CSRF_VALUE = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]*(")')


def test_the_opening_page_is_the_same_for_any_link_and_its_own_link_also_opens_the_survey(
    new_page, live_server, team, webmail
):
    """The opening hop tells nothing about the link (a good, a used and an unknown one get the same
    page, byte for byte but the CSRF token), is accessible, and its link does what the meta refresh
    does, for a browser that does not follow refreshes. Something that is not a token at all is not
    a link: its address is a 404 like any unknown address (tests/views/test_token_paths.py)."""
    round_, links = start_round(team)
    good, used = leader_links(links)[:2]
    answer(used, answers_for(round_, Role.LEADER))
    tokens = {"good": good.token, "used": used.token, "unknown": new_token().token}
    with translation.override("da"):
        opening, continue_, unusable = (
            gettext("Opening the survey"),
            gettext("Continue to the survey"),
            gettext("This link cannot be used"),
        )

    bodies: dict[str, bytes] = {}
    for kind, token in tokens.items():
        page = new_page()
        documents = record_documents(page, live_server)
        # Hold the page on the opening hop: a 204 leaves a navigation where it was.
        page.route("**/answer/?opened=1", lambda route: route.fulfill(status=204))
        with page.expect_response(f"{live_server.url}/answer/?opened=1") as refreshed:
            open_from_elsewhere(page, webmail, f"{live_server.url}/a/{token}/", "webmail")
        assert refreshed.value.status == 204  # the meta refresh went, and was held
        expect(page.locator("h1")).to_have_text(opening)
        assert urlparse(page.url).path == "/answer/" and token not in page.url
        (shown,) = [response for response in documents if response.url == f"{live_server.url}/answer/"]
        assert shown.status == 200
        bodies[kind] = CSRF_VALUE.sub(rb"\1\2", shown.body())
        if kind == "good":
            assert_accessible(page)

        page.unroute("**/answer/?opened=1")
        with page.expect_navigation() as navigation:
            page.get_by_role("link", name=continue_).click()
        if kind == "good":
            assert navigation.value.status == 200
            expect(page.locator("form.gs-start button[name=action][value=next]")).to_be_visible()
            assert answer_cookie(page) is not None
        else:
            assert navigation.value.status == 404
            expect(page.locator("h1")).to_have_text(unusable)
            if kind == "unknown":
                assert_accessible(page)
        assert_no_session(page)

    assert len(set(bodies.values())) == 1, {kind: len(body) for kind, body in bodies.items()}
