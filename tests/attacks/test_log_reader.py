"""The log reader (DESIGN.md 2): web server and proxy access logs, with the status, size and time of every request.

What they try, and what each test shows they cannot learn:

- what a leader wrote, from the byte counts of the answer pages (each step page is padded to one size);
- an answer or sign-in token, from any log line, however the link was written (percent-encoded, in
  capitals, double-encoded, with something after it);
- whether an address belongs to someone, from how long the sign-in-link form took to answer.
"""

from __future__ import annotations

import datetime
import functools
import logging
import re
import statistics
import time
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from gensidig.forms.answer import comment_name, field_name
from gensidig.models.choices import Role
from gensidig.services.survey.questions import MAX_COMMENT_LENGTH, questions_for

from .. import smtp
from ..factories import PersonFactory, chief_link, leader_links, start_round

pytestmark = pytest.mark.django_db
ANSWER_URL = reverse("gensidig:answer")
PADDING = re.compile(rb"<!--( *)-->(?=</body>)")


# --- A browser, as far as the answer pages need one -------------------------------------------


class Page(HTMLParser):
    """What a browser makes of a page: its form's fields, its elements in order, and whether they nest."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.hidden: list[tuple[str, str]] = []
        self.radios: dict[str, list[str]] = {}
        self.checked: dict[str, str] = {}
        self.textareas: dict[str, str] = {}
        self.events: list[tuple] = []
        self.unbalanced: list[str] = []
        self._open: list[str] = []
        self._textarea: str | None = None
        self.feed(html)
        self.close()
        self.unbalanced += self._open

    def handle_starttag(self, tag, attrs):
        self.events.append(("start", tag, tuple(attrs)))
        if tag not in self.VOID:
            self._open.append(tag)
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden":
            self.hidden.append((attrs["name"], attrs.get("value", "")))
        elif tag == "input" and attrs.get("type") == "radio":
            self.radios.setdefault(attrs["name"], []).append(attrs["value"])
            if "checked" in attrs:
                self.checked[attrs["name"]] = attrs["value"]
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self.textareas[attrs["name"]] = ""

    def handle_endtag(self, tag):
        self.events.append(("end", tag))
        if tag == "textarea":
            self._textarea = None
        if tag in self.VOID:
            return
        if self._open and self._open[-1] == tag:
            self._open.pop()
        else:
            self.unbalanced.append(tag)

    def handle_data(self, data):
        self.events.append(("data", data))
        if self._textarea:
            # A browser drops the one newline that may follow <textarea>.
            self.textareas[self._textarea] += data.removeprefix("\n") if not self.textareas[self._textarea] else data

    def handle_comment(self, data):
        self.events.append(("comment", data))

    def submit(self, action: str, *, choices: dict[str, str] | None = None, comment: str | None = None) -> dict:
        """The form data a browser sends: hidden fields, checked radios, the textarea, the button pressed."""
        answers = {**self.checked, **(choices or {})}
        data = dict(self.hidden)
        data.update({name: value for name, value in answers.items() if value})
        for name, text in self.textareas.items():
            data[name] = text if comment is None else comment
        return {**data, "action": action}


class Respondent:
    """Someone answering through a link, and what the access log records of each of their requests."""

    def __init__(self, client, link):
        self.client, self.link = client, link
        self.log: list[tuple[str, int, int]] = []
        self.unpadded: list[int] = []
        self.page: Page | None = None

    def _record(self, what: str, response):
        self.log.append((what, response.status_code, len(response.content)))
        self.unpadded.append(len(PADDING.sub(b"", response.content)))
        if response.get("Content-Type", "").startswith("text/html") and response.content:
            self.page = Page(response.content.decode())
        return response

    def open_link(self):
        self._record("open", self.client.get(f"/a/{self.link.token}/"))
        return self._record("intro", self.client.get(ANSWER_URL))

    def press(self, action: str, *, rate=None, leave_out: int = 0, comment: str | None = None):
        """Answer the questions on the page with rate(name) (leaving the last `leave_out` blank), and press a button."""
        choices = {}
        if rate is not None:
            names = sorted(self.page.radios)
            choices = {name: rate(name) for name in names}
            for name in names[len(names) - leave_out :]:
                choices[name] = ""
                self.page.checked.pop(name, None)
        data = self.page.submit(action, choices=choices, comment=comment)
        return self._record(action, self.client.post(ANSWER_URL, data))

    def thanks(self):
        return self._record("thanks", self.client.get(reverse("gensidig:answer-thanks")))


def answer_everything_with_detours(respondent: Respondent, rate, comment_for, too_long: str | None, send=True) -> None:
    """One full answer: an incomplete page, a step back, a comment over the limit (sent without the
    browser's maxlength), and the rest; the same buttons in the same order, whatever is written."""
    respondent.open_link()
    respondent.press("next")  # the intro: start
    respondent.press("next", rate=rate, comment=comment_for(1))  # theme 1
    assert respondent.press("next", rate=rate, leave_out=1, comment=comment_for(2)).status_code == 400
    respondent.press("next", rate=rate, comment=comment_for(2))
    respondent.press("back", rate=rate, comment=comment_for(3))  # theme 3, back to 2
    respondent.press("next")  # theme 2 again, as it was
    if too_long is not None:
        assert respondent.press("next", comment=too_long).status_code == 400
    respondent.press("next", comment=comment_for(3))
    for number in (4, 5):
        respondent.press("next", rate=rate, comment=comment_for(number))
    if send:
        assert respondent.press("send", rate=rate, comment=comment_for(6)).status_code == 303
        respondent.thanks()


def repeated(text: str, length: int = MAX_COMMENT_LENGTH) -> str:
    """`text` repeated to exactly `length` UTF-16 code units, as the browser counts a comment."""
    units = len(text.encode("utf-16-le")) // 2
    return text * (length // units) + "x" * (length % units)


# Comments of very different lengths and kinds, and what each writer sends when the browser's limit is gone.
WRITERS = {
    "says nothing": (lambda n: "", "Kort. " * 400),
    "writes a line in Danish": (lambda n: f"Fint tema {n}. Blåbærgrød og æøå ÆØÅ " * n, "æøå" * 1000),
    "fills every box": (lambda n: "y" * MAX_COMMENT_LENGTH, "y" * 100_000),
    "writes markup": (lambda n: repeated("\"<&>'"), '"' * (MAX_COMMENT_LENGTH + 1)),
    "writes emoji": (lambda n: repeated("😀🎉"), "🙈" * MAX_COMMENT_LENGTH),
    "types a null": (lambda n: "før\r\nefter" * n, '"' * MAX_COMMENT_LENGTH + "\x00"),
}
RATERS = [
    lambda name: "5",
    lambda name: str(len(name) % 6),  # 0 is "Don't know"
    lambda name: "0",
    lambda name: "1" if "importance" in name else "4",
]


def test_a_leaders_byte_counts_are_the_same_whatever_they_wrote(client, team):
    """The access log of a whole answer, detours included, is one and the same sequence of (status, size)."""
    _round, links = start_round(team)
    logs, unpadded = {}, set()
    for (writer, (comment_for, too_long)), rate, link in zip(
        WRITERS.items(), RATERS * 2, leader_links(links), strict=False
    ):
        client.cookies.clear()
        respondent = Respondent(client, link)
        answer_everything_with_detours(respondent, rate, comment_for, too_long)
        logs[writer] = respondent.log
        unpadded.add(tuple(respondent.unpadded))
    assert len(unpadded) == len(WRITERS)  # without the padding, every one of them would stand out
    first, *others = logs
    for writer in others:
        assert logs[writer] == logs[first], f"a leader who {writer} shows in the log unlike one who {first}"


def test_the_chiefs_byte_counts_are_the_same_whatever_they_answered(client, team):
    """The chief's own answers, which are not anonymous in the report, are no more visible in the log."""
    _round, links = start_round(team)
    logs = []
    raters = RATERS[1:3]
    for number, rate in enumerate(raters, start=1):
        client.cookies.clear()
        respondent = Respondent(client, chief_link(links))
        # The chief has one link; only the last run sends (a send is the same redirect for anyone).
        answer_everything_with_detours(respondent, rate, lambda n: None, too_long=None, send=number == len(raters))
        logs.append(respondent.log)
    for log in logs[1:]:
        assert log[: len(logs[0])] == logs[0]


def step_data(round_, role, step: int, *, rating: str, comment: str, other_comments: str) -> dict:
    """A step sent with every answer of it `rating` and its comment `comment`; every other step answered
    ("Don't know") and commented `other_comments`, carried along as the browser carries them."""
    questions = questions_for(instrument=round_.instrument, role=role)
    theme_keys = list(dict.fromkeys(key.split(".")[0] for key, _scale in questions))
    current = theme_keys[step - 1]
    data = {"step": str(step), "action": "send" if step == len(theme_keys) else "next"}
    for key, scale in questions:
        data[field_name(key, scale)] = rating if key.startswith(current + ".") else "0"
    if role == Role.LEADER:
        data.update({comment_name(key): comment if key == current else other_comments for key in theme_keys})
    return {name: value for name, value in data.items() if value}


def step_sizes(client, round_, role, **sent) -> dict[int, int]:
    """The size in the log of each step's page, as sent with `sent` (always with an error to show)."""
    sizes = {}
    for step in range(1, 7):
        response = client.post(ANSWER_URL, step_data(round_, role, step, **sent))
        assert response.status_code == 400 and response.context["step"].number == step
        sizes[step] = len(response.content)
    return sizes


@pytest.mark.parametrize("rating", ["", "9"])
def test_the_largest_page_anyone_can_make_is_no_larger_in_the_log(client, team, rating):
    """Every answer of the step missing or not an answer, every comment as long as it can be in the
    longest-escaping character, and the step's own comment over the limit with a null character for a
    second error: each step's page is still the step's one size in the log, not a larger block."""
    round_, links = start_round(team)
    Respondent(client, leader_links(links)[0]).open_link()
    plain = step_sizes(client, round_, Role.LEADER, rating="", comment="", other_comments="")
    largest = step_sizes(
        client,
        round_,
        Role.LEADER,
        rating=rating,
        comment='"' * MAX_COMMENT_LENGTH + "\x00",
        other_comments='"' * MAX_COMMENT_LENGTH,
    )
    assert largest == plain


ANSWER_VALUES = ["", "0", "1", "3", "5", "9", "x", "10", "-1"]
COMMENTS = st.one_of(
    st.text(max_size=30),
    st.builds(
        lambda character, count, tail: character * count + tail,
        st.sampled_from(['"', "<", "&", "'", "æ", "😀", "x", " ", "\r\n", "\x00"]),
        st.integers(0, MAX_COMMENT_LENGTH + 20),
        st.text(max_size=5),
    ),
)


def test_no_answer_changes_the_size_of_a_step_in_the_log(client, team):
    """Whatever is sent from whichever step, each page is the one size of the step (or page) shown."""
    round_, links = start_round(team)
    Respondent(client, leader_links(links)[0]).open_link()
    questions = questions_for(instrument=round_.instrument, role=Role.LEADER)
    theme_keys = list(dict.fromkeys(key.split(".")[0] for key, _scale in questions))
    sizes: dict[object, int] = {}

    @hypothesis_settings(
        max_examples=20,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        step=st.integers(1, 6),
        action=st.sampled_from(["next", "back"]),
        ratings=st.fixed_dictionaries(
            {field_name(key, scale): st.sampled_from(ANSWER_VALUES) for key, scale in questions}
        ),
        comments=st.fixed_dictionaries({comment_name(key): COMMENTS for key in theme_keys}),
    )
    def sent(step, action, ratings, comments):
        data = {"step": str(step), "action": action, **ratings, **comments}
        response = client.post(ANSWER_URL, {name: value for name, value in data.items() if value})
        shown = ("step", response.context["step"].number) if "step" in response.context else response.status_code
        assert sizes.setdefault(shown, len(response.content)) == len(response.content), shown

    sent()


def test_the_padding_is_one_html_comment_before_body_closes_and_the_page_still_parses(client, team):
    _round, links = start_round(team)
    respondent = Respondent(client, leader_links(links)[0])
    respondent.open_link()
    respondent.press("next")
    typed = "--> <!-- </body> \"<&>' æøå 😀"
    response = respondent.press("next", rate=lambda name: "3", comment=typed)
    body, page = response.content, respondent.page
    padding = PADDING.search(body)
    assert padding and padding.group(1) and body[padding.end() :] == b"</body>\n</html>\n"
    assert body.count(b"<!--") == 1 and body.count(b"</body>") == 1  # what was typed opens or closes nothing
    without = Page(PADDING.sub(b"", body).decode())
    assert page.unbalanced == [] and without.unbalanced == []
    assert [event for event in page.events if event[0] != "comment"] == without.events
    body_ends = page.events.index(("end", "body"))
    assert page.events[body_ends - 1] == ("comment", padding.group(1).decode())
    # And the browser sends back exactly what was typed, padding or not.
    assert dict(page.hidden)[comment_name(response.context["steps"][0].theme.key)] == typed


# --- Tokens in the logs -----------------------------------------------------------------------


def percent(character: str, *, lower: bool = False) -> str:
    code = f"%{ord(character):02X}"
    return code.lower() if lower else code


def spellings(route: str, token: str) -> dict[str, str]:
    """Ways a link can arrive, as a request target: mangled by a mail client, or written to slip past a filter."""
    head, rest = token[0], token[1:]
    segment = route.strip("/")
    with_hex_letters = "".join(percent(c, lower=True) if percent(c)[1:].strip("0123456789") else c for c in token)
    return {
        "as sent": f"{route}{token}/",
        "without the last slash": f"{route}{token}",
        "with its first character percent-encoded": f"{route}{percent(head)}{rest}/",
        "with every character percent-encoded": route + "".join(percent(c) for c in token) + "/",
        "in lower-case hex": f"{route}{with_hex_letters}/",
        "with its route percent-encoded": "/" + "".join(percent(c) for c in segment) + f"/{token}/",
        "with its slashes percent-encoded": "/" + route[1:].replace("/", "%2F") + token + "%2f",
        "as no valid request target at all": route.replace("/", "%2F") + token,
        "double-encoded": f"{route}%25{percent(head)[1:]}{rest}/",
        "encoded three times over, route and all": f"/%2525{ord(route[1]):02X}{route[2:]}%2525{ord(head):02X}{rest}/",
        "with characters after it": f"{route}{token}xyz!/",
        "with more path after it": f"{route}{token}/more/",
        "in capitals": f"{route.upper()}{token}/",
        "with a query": f"{route}{token}/?utm_source=mail&t={token}",
        "in another page's query": f"/login/?next={route}{token}/",
        "encoded in another page's query": f"/login/?next={route.replace('/', '%2F')}{token}%2F",
        "double-encoded in a query": f"/?ref=http%253A%252F%252Fx{route.replace('/', '%252F')}{token}",
        "behind a doubled slash": f"/{route}{token}/",
    }


class Sink:
    """The client's end of a connection, for gunicorn to write its responses to."""

    def __init__(self):
        self.sent = bytearray()

    def sendall(self, data):
        self.sent += data

    send = sendall


@pytest.fixture
def gunicorn():
    """gunicorn's logger as `gensidig serve` configures it (access log on, error log at debug), and a way to
    serve one request as a sync worker does: gunicorn parses the request and builds the environ, the app
    answers, and gunicorn writes its access-log line."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections
    from gunicorn.config import Config
    from gunicorn.http import wsgi
    from gunicorn.http.errors import InvalidRequestLine
    from gunicorn.http.parser import RequestParser
    from gunicorn.workers.base import Worker

    from gensidig.serving import RedactingLogger

    config = Config()
    for name, value in {"logger_class": "gensidig.serving.RedactingLogger", "accesslog": "-", "errorlog": "-"}.items():
        config.set(name, value)
    config.set("loglevel", "debug")
    logger = RedactingLogger(config)
    worker = type("Worker", (), {"log": logger, "cfg": config})()
    application = WSGIHandler()

    def serve(target: str, *, method="GET", headers=()) -> list[int]:
        """The statuses of the access-log lines gunicorn writes for the request."""
        raw = f"{method} {target} HTTP/1.1\r\nHost: testserver\r\n"
        raw += "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
        try:
            request = next(RequestParser(config, iter([raw.encode("latin-1")]), ("192.0.2.1", 50000)))
        except InvalidRequestLine as refused:  # gunicorn says why, and answers 400 itself
            Worker.handle_error(worker, None, Sink(), ("192.0.2.1", 50000), refused)
            return []
        config.pre_request(worker, request)
        started = datetime.datetime.now()
        response, environ = wsgi.create(request, Sink(), ("192.0.2.1", 50000), ("127.0.0.1", 8000), config)
        # As Django's test client does: the test's own database connection must stay open.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            body = application(environ, response.start_response)
            for chunk in body:
                response.write(chunk)
            response.close()
            logger.access(response, request, environ, datetime.datetime.now() - started)
            body.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        # And what the worker logs when a request fails half-way: its line, and a traceback that names it.
        try:
            raise ConnectionResetError(f"the client went away while {target} was answered")
        except ConnectionResetError as failure:
            Worker.handle_error(worker, request, Sink(), ("192.0.2.1", 50000), failure)
        return [int(response.status.split()[0]), 500]

    yield serve
    for log in (logger.error_log, logger.access_log):
        for handler in [h for h in log.handlers if getattr(h, "_gunicorn", False)]:
            log.removeHandler(handler)


@pytest.fixture
def written(gunicorn, monkeypatch):
    """Every line any log handler writes from now on (Django's, runserver's, gunicorn's), as it writes it."""
    lines: list[str] = []
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    handlers = {h for logger in loggers for h in getattr(logger, "handlers", [])}
    for handler in handlers:
        if not type(handler).__module__.startswith("_pytest"):
            monkeypatch.setattr(handler, "emit", lambda record, handler=handler: lines.append(handler.format(record)))
    return lines


def as_runserver_logs(target: str, status: int) -> None:
    """The request line `gensidig runserver` writes (Django's development server), by its own code."""
    from django.core.servers.basehttp import WSGIRequestHandler

    handler = type("Handler", (), {})()
    handler.requestline, handler.request = f"GET {target} HTTP/1.1", None
    handler.log_date_time_string = lambda: "01/Jan/2026 10:00:00"
    handler.log_message = functools.partial(WSGIRequestHandler.log_message, handler)
    WSGIRequestHandler.log_request(handler, status, 0)


def readings(line: str) -> list[str]:
    """A line as a log reader can read it: as written and decoded again and again, in either case."""
    found = [line]
    while len(found) < 8 and unquote(found[-1]) != found[-1]:
        found.append(unquote(found[-1]))
    return found + [reading.lower() for reading in found]


def pieces(token: str) -> set[str]:
    """Every ten characters of the token in a row: 60 bits, far too much to let out."""
    return {part for i in range(len(token) - 9) for part in (token[i : i + 10], token[i : i + 10].lower())}


@pytest.fixture
def tokens(team):
    from gensidig.services.signin import sign_in_message

    _round, links = start_round(team)
    message = sign_in_message(user=team.chief.user, language="da", now=timezone.now())
    sign_in = re.search(r"/login/link/([A-Za-z0-9_\-]{43})/", message.body).group(1)
    return {"/a/": leader_links(links)[0].token, "/login/link/": sign_in}


@pytest.mark.parametrize("route", ["/a/", "/login/link/"])
def test_no_log_line_gives_a_token_away_however_the_link_is_written(client, tokens, gunicorn, written, route):
    token, leaked = tokens[route], {}
    for how, target in spellings(route, token).items():
        before = len(written)
        url = f"http://testserver{target}"  # a path from its first slash, even a doubled one
        client.get(url, HTTP_REFERER=f"https://mail.example/?u=https://gensidig.example{target}")
        client.post(url, {"t": token})  # a 405, or an unusable sign-in link: both are logged
        statuses = gunicorn(target, headers=[("Referer", f"https://gensidig.example{target}")])
        as_runserver_logs(target, statuses[0] if statuses else 400)
        new = written[before:]
        access = [line for line in new if line.startswith("192.0.2.1 - - [")]
        # The request, and the one that failed half-way, are still in the access log with their status...
        assert [re.search(r'HTTP/1.1" (\d+) \d+ ', line).group(1) for line in access] == [str(s) for s in statuses]
        leaks = [line for line in new if any(part in reading for reading in readings(line) for part in pieces(token))]
        if leaks or not all("[redacted]" in line for line in access):  # ...with the link left out
            leaked[how] = leaks
    assert leaked == {}, f"the token reached the log written {sorted(leaked)}"
    assert any(line.startswith("Not Found: ") for line in written)  # Django's own lines were there to read
    assert any("Error handling request" in line for line in written)


def test_the_development_server_in_debug_mode_keeps_tokens_out_too(client, tokens, written, settings):
    """With DEBUG on, Django's own default console handler also writes every 4xx it logs."""
    settings.DEBUG = True
    token = tokens["/a/"]
    for target in (f"/A/{token}/", f"/a/{token}/more/", f"/a/%2541{token}/x/"):
        client.get(target)
    leaks = [line for line in written if any(part in reading for reading in readings(line) for part in pieces(token))]
    assert leaks == []


# --- How long the sign-in-link form takes -----------------------------------------------------

smtp_server = smtp.smtp_server  # a real mail server: were a link sent while the visitor waits, it would show
TRIES = 40


def time_of(client, email: str) -> tuple[float, int, int]:
    started = time.perf_counter()
    response = client.post(reverse("gensidig:sign-in-link"), {"email": email})
    return time.perf_counter() - started, response.status_code, len(response.content)


def test_the_sign_in_form_takes_as_long_for_an_address_nobody_has(client, team, smtp_server, settings):
    """The log reader times the form for addresses of people in the chart and for guesses, turn about."""
    # Timing is the point here, not the per-client limit on requests (tests/views/test_sign_in_link_limits.py),
    # which would otherwise answer the later tries of this one client with 429.
    settings.GENSIDIG_SIGN_IN_LINK_REQUESTS_PER_CLIENT = 4 * TRIES
    organisation = team.organisation
    known = [f"kendt{i:03d}@kommune.example" for i in range(TRIES)]
    for email in known:
        PersonFactory(organisation=organisation, email=email)
    guessed = [f"gaet{i:03d}x@kommune.example" for i in range(TRIES)]  # as long, so the pages are too
    for email in ("kendt-warm@kommune.example", "gaet-warmxx@kommune.example"):
        time_of(client, email)  # the first request of a process pays for imports and caches
    seen = {"known": [], "guessed": []}
    for a, b in zip(known, guessed, strict=True):
        seen["known"].append(time_of(client, a))
        seen["guessed"].append(time_of(client, b))
    # What the access log shows besides the time is the same for both.
    assert {(status, size) for _t, status, size in seen["known"] + seen["guessed"]} == {seen["known"][0][1:]}
    known_median = statistics.median(t for t, _status, _size in seen["known"])
    guessed_median = statistics.median(t for t, _status, _size in seen["guessed"])
    # Medians of 40 interleaved tries: noise (another job on a 2-core machine) falls on both alike, and a
    # few slow tries do not move them. Sending the link in the request made a known address 4 to 9 times
    # slower (user, link, two templates and an SMTP conversation: 13-40 ms against 3-11 ms on this machine
    # under load); queueing makes both one insert. Half again as slow, or 3 ms apart, whichever is more
    # lenient, passes the queue under that noise and still fails the old way by far.
    slower, faster = max(known_median, guessed_median), min(known_median, guessed_median)
    assert slower < max(1.5 * faster, faster + 0.003), (
        f"known {known_median * 1000:.1f} ms, guessed {guessed_median * 1000:.1f} ms (medians of {TRIES})"
    )
    assert smtp_server.received == []  # nothing went out while anyone waited: the sender mails later
