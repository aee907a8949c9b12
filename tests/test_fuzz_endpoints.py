"""Every URL in the URLconf, fuzzed as every role and as an outsider: never a 500, never half a change.

For each URL and each role (anonymous, signed in without a role, another organisation's HR, a
leader, a chief of another branch, the round's chief, HR and the chief of chiefs), hypothesis draws
the path's values (real ids, and ids of the wrong shape: unicode, very long, percent-encoded bytes,
a '-' in front), a query string, a method, and for writes a body built from the fields of the forms
that post there (read from the pages' HTML), with values that are often what the form offers and
often not (control characters and NUL, huge numbers, dates out of range, lists where one value is
expected, fields nobody asked for). CSRF is checked as in production; most writes carry the token,
some do not and must be refused before any view runs.

Each request must get one of the answers in fuzzing.EXPECTED. A refused write (a 4xx, or a visitor
sent to sign in) must leave every table exactly as it was; a write that succeeded must leave the
database's constraints satisfied and the role's pages working. Each example runs in a savepoint
that is rolled back, so every example starts from the same world, which is built once for the
module. ADMITS says which roles get past each URL's checks; those get more examples there.

The seed is fixed and printed; FUZZ_SEED=<n> (or FUZZ_SEED=random) tries other examples and
replays a failure, FUZZ_EXAMPLES=<factor> runs more of them, and FUZZ_VERBOSE=1 prints how often
each URL answered what and which URLs took longest.
"""

from __future__ import annotations

import datetime
import io
import itertools
import os
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlencode, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.test import override_settings
from django.urls import Resolver404, resolve
from django.utils import timezone
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from gensidig.forms.answer import VALID_ANSWERS, comment_name, field_name
from gensidig.models import AuditAction, AuditEvent, ChartUpload, Person, Round, Team, User
from gensidig.models.choices import Role
from gensidig.services import audit_trail
from gensidig.services.access import add_admin
from gensidig.services.campaigns import create_campaign, launch_campaign
from gensidig.services.mail import shared_report
from gensidig.services.mail.demo_outbox import DemoOutboxBackend, stored_messages
from gensidig.services.organisation.people import deactivate_person
from gensidig.services.signin import new_link
from gensidig.services.survey.instruments import clear_caches, framework_for
from gensidig.services.survey.own_round import open_own_round
from gensidig.services.survey.questions import questions_for
from gensidig.services.survey.rounds import reissue_links
from gensidig.views.answer import ANSWER_COOKIE
from gensidig.views.padding import forget_bounds

from . import fuzzing
from .fuzzing import EXPECTED, ROLES, SEED, Field, Form, Route, examples, routes
from .views import test_access

pytestmark = pytest.mark.django_db

# Pages read to find the forms: as each role that sees something, every URL it gets into (ADMITS)
# with every real value.
READERS = ("hr", "chief", "chief-of-chiefs", "leader")
SEARCH = "?"  # forms[name + SEARCH]: the fields of the page's own search or filter form
# Pages whose forms show only with a query (the agreements page, once a theme is chosen).
READ_QUERIES = {"agreements": ["", "?theme=direction"]}
DOWNLOADS = ("-pdf", "-xlsx", "-csv", "-json")
WRITES = ("post", "put", "patch", "delete")
# Fields a view reads that no page shows as a form field to the readers above.
IMPLIED_FIELDS = {
    "login": ["username", "password", "next"],
    "sign-in-link": ["email"],
    "sign-in-link-use": ["next"],
    "set_language": ["language", "next"],
    "org-admin-remove": ["admin"],
    "campaign-launch": ["leave_out"],
    "share": ["share"],
    "org-import-preview": ["confirm_leaving"],
    # Buttons shown only when an invitation could not be sent; they post nothing but the token.
    "round-resend": [],
    "campaign-resend": [],
}
# How many examples each URL gets as a role that gets past its checks, and as one that does not.
ADMITTED, REFUSED = 8, 2
# Downloads render a whole workbook or PDF and read nothing from the request but the path. A PDF
# takes a second or more to render: one example each (hypothesis' first is the real path).
DOWNLOAD_EXAMPLES, PDF_EXAMPLES = 3, 1
# How a write carries the CSRF token: mostly as the pages send it, sometimes not at all.
CSRF_WAYS = ("header", "header", "header", "field", "none")
VERBOSE = bool(os.environ.get("FUZZ_VERBOSE"))
SETTINGS = dict(
    deadline=None,
    derandomize=False,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


@dataclass
class FuzzWorld:
    """test_access's world and a little more, so that every kind of page has something real to show."""

    real: dict[str, list[dict[str, str]]]  # URL name -> the real path values it can take
    forms: dict[str, Form]  # URL name -> every field of the forms that post to it
    answer_cookie: str  # a usable invitation of an open round, as the answer pages carry it
    users: dict[str, User | None]


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once: every test here runs in a savepoint inside this transaction, rolled back at the end.

    The data folder (where the demo's outbox keeps its messages as files, which no rollback takes
    away) is a fresh one, so that each run, and each process of a parallel run, has the same world.
    """
    with django_db_blocker.unblock(), override_settings(DATA_DIR=tmp_path_factory.mktemp("fuzz-data")):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _build() -> FuzzWorld:
    w = test_access.build_world()
    area_round = Round.objects.get(public_id=w["area_round"])
    # The leaders of chief1's round may read its report; the chief of chiefs runs a round of their own.
    shared_report.share_report(round_=area_round)
    top_team = Team.objects.get(public_id=w["top_team"])
    own = open_own_round(team=top_team, closes_at=timezone.now() + datetime.timedelta(days=10))
    leader_link = next(link for link in reissue_links(round_=own) if link.role == Role.LEADER)
    campaign_top_round = Round.objects.get(campaign__public_id=w["campaign"], team=top_team)
    # The demo's outbox holds one message (its pages exist only while the demo serves).
    DemoOutboxBackend().send_messages([EmailMessage(subject="Invitation", body="/a/x/", to=["l10@a.dk"])])
    _link, sign_in_url = new_link(user=User.objects.get(email="hr@b.dk"), now=timezone.now())
    # A second admin (so the page offers to remove one), and someone who left (so one can come back).
    add_admin(email="hr2@a.dk", organisation_slug="a")
    organisation = top_team.organisation
    left = Person.objects.get(organisation=organisation, email="l24@a.dk")
    deactivate_person(organisation=organisation, person=left)
    # A campaign open now and one that opens later, both in chief2's branch (so that chief1 may still
    # start a round of their own): closing, reminding and taking back to draft have something to act on.
    today, now = timezone.localdate(), timezone.now()
    beside = Team.objects.get(organisation=organisation, chief__email="chief2@a.dk")
    running = create_campaign(
        organisation=organisation,
        name="Nu",
        root_team=beside,
        opens_on=today,
        closes_at=now + datetime.timedelta(days=12),
    )
    launch_campaign(campaign=running)
    later = create_campaign(
        organisation=organisation,
        name="Senere",
        root_team=beside,
        opens_on=today + datetime.timedelta(days=5),
        closes_at=now + datetime.timedelta(days=20),
    )
    launch_campaign(campaign=later)
    running_round = Round.objects.get(campaign=running, team=beside)

    real: dict[str, list[dict[str, str]]] = {}
    for name, url, _methods in test_access.protected_urls(w):
        real.setdefault(name, []).append({k: str(v) for k, v in resolve(url).kwargs.items()})
    for name in ("round", "round-close", "round-close-confirm", "round-remind", "round-resend", "round-extend"):
        real[name] += [{"public_id": r.public_id} for r in (own, campaign_top_round, running_round)]
    # The chief of chiefs' own report of the campaign, wherever chief1's is tried.
    for name in ("report", "report-theme", "figures-xlsx", "figures-csv", "guide", "guide-present"):
        real[name].append(real[name][0] | {"public_id": campaign_top_round.public_id})
    for name in ("guide-present-step", "guide-present-agreement", "agreements", "share"):
        real[name].append(real[name][0] | {"public_id": campaign_top_round.public_id})
    for name in ("campaign", "campaign-progress", "campaign-close", "campaign-resend", "campaign-remind"):
        real[name].append({"slug": "a", "public_id": running.public_id})
    for name in ("campaign", "campaign-withdraw", "campaign-delete", "campaign-edit"):
        real[name].append({"slug": "a", "public_id": later.public_id})
    real["campaign"].append({"slug": "a", "public_id": w["draft"]})
    real["rollup-start"].append({"public_id": running.public_id})
    real["guide-present-step"].append({"public_id": w["area_round"], "step": "5"})
    for name in ("org-person", "org-person-deactivate", "org-person-reactivate", "org-person-data", "org-person-erase"):
        for email in ("top@a.dk", "l24@a.dk"):
            real[name].append(
                {"slug": "a", "person_id": str(Person.objects.get(organisation=organisation, email=email).pk)}
            )
    real["own-round-new"].append({"public_id": beside.public_id})
    real["sign-in-link-use"] = [{"token": urlsplit(sign_in_url).path.split("/")[-2]}]
    real["token-intake"] = [{"token": leader_link.token}]
    real["help-role"] = [{"role": role} for role in ("leader", "chief", "hr")]
    real["demo-outbox-message"] = [{"message_id": m.id} for m in stored_messages()]
    for name in [*test_access.PUBLIC, "demo-outbox", "set_language"]:
        real.setdefault(name, [{}])

    forms = _read_forms(real)
    forms["answer"] = _answer_form(own)
    users = {
        role: (User.objects.filter(email=email).first() or User.objects.create_user(email=email)) if email else None
        for role, email in ROLES.items()
    }
    cookie = fuzzing.client_for(None).get(f"/a/{leader_link.token}/").cookies[ANSWER_COOKIE].value
    return FuzzWorld(real=real, forms=forms, answer_cookie=cookie, users=users)


def _read_forms(real) -> dict[str, Form]:
    forms: dict[str, Form] = {}
    by_name = {route.name: route for route in routes()}
    for role in READERS:
        client = fuzzing.client_for(User.objects.get(email=ROLES[role]))
        for name, alternatives in real.items():
            if name.endswith(DOWNLOADS) or name == "logout" or role not in ADMITS.get(name, ()):
                continue
            for values, query in itertools.product(alternatives, READ_QUERIES.get(name, [""])):
                path = by_name[name].path({k: quote(v, safe="") for k, v in values.items()})
                response = client.get(path + query)
                if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
                    continue
                for form in fuzzing.forms_on(path, response.content.decode()):
                    try:
                        target = resolve(form.action).url_name
                    except Resolver404:
                        continue
                    # A search or filter form (method GET) becomes the query string of the page it names.
                    fuzzing.merge(forms, form, target if form.method == "post" else target + SEARCH)
    for name, implied in IMPLIED_FIELDS.items():
        form = forms.setdefault(name, Form("", "post"))
        for field in implied:
            form.fields.setdefault(field, Field(field, "text"))
    return forms


def _answer_form(round_) -> Form:
    """The answer form's fields: every question of every step, each comment, the step and the action."""
    form = Form("/answer/", "post")
    framework = framework_for(round_.instrument, "da")
    for role in (Role.LEADER, Role.CHIEF):
        for key, scale in questions_for(instrument=round_.instrument, role=role):
            form.fields[field_name(key, scale)] = Field(
                field_name(key, scale), "radio", dict.fromkeys(sorted(VALID_ANSWERS))
            )
    for theme in framework.themes:
        form.fields[comment_name(theme.key)] = Field(comment_name(theme.key), "textarea")
    form.fields["step"] = Field("step", "hidden", dict.fromkeys(str(n) for n in range(len(framework.themes) + 1)))
    form.fields["action"] = Field("action", "submit", dict.fromkeys(["next", "back", "send"]))
    return form


# --- One example -------------------------------------------------------------------------------


@dataclass
class Case:
    method: str
    path: str
    query: str
    encoding: str  # multipart, urlencoded or raw
    body: dict
    raw: bytes
    content_type: str
    htmx: bool
    answer_cookie: bool
    demo: bool
    # Now and then cookies and headers of any kind: the language cookie, Accept-Language, an
    # answer cookie that is not ours (its signature does not hold).
    cookies: dict
    headers: dict
    csrf: str = "header"  # the CSRF token: in the "header", as a form "field", or "none"


def case_strategy(route: Route, w: FuzzWorld) -> st.SearchStrategy[Case]:
    real = w.real.get(route.name, [{}])
    parameters = {
        name: (
            st.sampled_from(list(dict.fromkeys(values[name] for values in real if name in values)) or ["x"]).map(
                lambda v: quote(v, safe="")
            ),
            fuzzing.path_value(converter),
        )
        for converter, name in route.parameters
    }
    form = w.forms.get(route.name)
    if form is not None and form.method == "post":
        methods = st.sampled_from(["post"] * 7 + ["get", "get", "head", "put", "patch", "delete", "options"])
    else:
        methods = st.sampled_from(["get"] * 7 + ["head", "head", "post", "post", "put", "delete", "options"])
    fields = form.fields if form else {}
    plausible = st.fixed_dictionaries({name: fuzzing.plausible_value(f) for name, f in fields.items()})
    mixed = st.fixed_dictionaries({}, optional={name: fuzzing.value_for(f) for name, f in fields.items()})
    extra = st.dictionaries(st.one_of(fuzzing.any_text.filter(bool), fuzzing.control_text), fuzzing.weird, max_size=2)
    file_field = next((name for name, f in fields.items() if f.kind == "file"), None)
    queries = fuzzing.query_strings(w.forms.get(route.name + SEARCH))

    @st.composite
    def cases(draw):
        # Mostly the real values (to get past the lookups and reach the forms), sometimes some wrong.
        wrong = {name for name in parameters if draw(st.integers(0, 9)) >= 8}
        values = {name: draw(fake if name in wrong else right) for name, (right, fake) in parameters.items()}
        # A body a person could have sent, with one field made odd; or any mixture; or one odd thing more.
        kind = draw(st.integers(0, 9))
        data = draw(plausible if kind < 5 else mixed)
        if kind < 5 and data:
            name = draw(st.sampled_from(sorted(data)))
            data[name] = draw(st.one_of(st.just(data[name]), fuzzing.value_for(fields[name])))
        if kind >= 8:
            data.update(draw(extra))
        if file_field and draw(st.integers(0, 3)):
            data[file_field] = draw(chart_files())
        return Case(
            method=draw(methods),
            path=route.path(values),
            query=draw(queries),
            encoding=draw(st.sampled_from(["multipart"] * 6 + ["urlencoded", "urlencoded", "raw"])),
            body=data,
            raw=draw(st.binary(max_size=200)),
            content_type=draw(
                st.sampled_from(["application/json", "text/plain", "multipart/form-data", "text/html; charset=x", ""])
            ),
            htmx=draw(st.integers(0, 3)) == 0,
            answer_cookie=route.name == "answer" and draw(st.integers(0, 3)) > 0,
            demo=(route.name.startswith("demo-") and draw(st.booleans())) or draw(st.integers(0, 19)) == 0,
            cookies=draw(st.one_of(st.just({}), st.just({}), st.just({}), st.just({}), odd_cookies)),
            headers=draw(st.one_of(st.just({}), st.just({}), st.just({}), st.just({}), odd_headers)),
        )

    return cases()


# A header's value as a server hands it on: any character of Latin-1 but the control characters.
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=60)
odd_cookies = st.dictionaries(
    st.sampled_from(["django_language", ANSWER_COOKIE, "sessionid", "csrftoken"]),
    st.one_of(header_text, st.sampled_from(["da", "en", "xx", "en-GB", "da;q=1", "1:abc:def", "1"])),
    min_size=1,
    max_size=2,
)
odd_headers = st.dictionaries(
    st.sampled_from(["Accept-Language", "HX-Current-URL", "HX-Target", "User-Agent", "Accept"]),
    st.one_of(header_text, st.sampled_from(["da", "en-US,en;q=0.9", "*", "zz-ZZ;q=2", ";q=", "da-DK" * 100])),
    min_size=1,
    max_size=2,
)


def chart_files() -> st.SearchStrategy[SimpleUploadedFile]:
    names = st.sampled_from(
        ["chart.csv", "chart.xlsx", "chart.txt", "CHART.CSV", "chart.exe", "æ.csv", "a" * 300 + ".csv"]
    )
    return st.builds(SimpleUploadedFile, names, chart_bytes())


def chart_bytes() -> st.SearchStrategy[bytes]:
    """A chart file: random bytes, CSV text with odd cells, or a workbook of odd shape."""
    cells = st.one_of(fuzzing.any_text, fuzzing.emails, fuzzing.control_text, st.just("x" * 40000))
    csv_text = st.builds(
        lambda header, rows, sep: "\n".join(sep.join(row) for row in [header, *rows]).encode("utf-8", "replace"),
        st.sampled_from([["email", "name", "manager_email", "unit"], ["e-mail", "navn", "leder", "enhed"], ["x"]]),
        st.lists(st.lists(cells, max_size=8), max_size=10),
        st.sampled_from([";", ",", "\t"]),
    )
    # Wide and long files, within the limits (tests/services/test_chart_limits.py tries those).
    wide = st.integers(100, 5000).map(
        lambda n: ("email;" + ";".join(f"c{i}" for i in range(n)) + "\na@b.dk\n").encode()
    )
    long_ = st.integers(1000, 5000).map(
        lambda n: ("email;name;manager_email;unit\n" + "".join(f"p{i}@a.dk;P;;U\n" for i in range(n))).encode()
    )
    return st.one_of(st.binary(max_size=300), csv_text, csv_text, wide, long_, workbooks())


def workbooks() -> st.SearchStrategy[bytes]:
    def build(rows, far_column, header):
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        if far_column:
            sheet.cell(row=len(rows) + 2, column=far_column, value="x")
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    cell = st.one_of(
        st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=30),
        fuzzing.emails.filter(lambda e: "\x00" not in e and "\n" not in e),
        st.integers(-(10**15), 10**15),
        st.floats(allow_nan=False, allow_infinity=False),
        st.dates(),
        st.none(),
        st.just("x" * 32767),
    )
    return st.builds(
        build,
        st.lists(st.lists(cell, max_size=6), max_size=6),
        st.sampled_from([0, 0, 60, 16384]),
        st.sampled_from([["email", "name", "manager_email", "unit"], ["a", "b"], []]),
    )


def send(client, case: Case):
    """Send the case as a browser would; every write carries the CSRF token as the case says."""
    path = case.path + ("?" + case.query if case.query else "")
    headers = {"HX-Request": "true"} if case.htmx else {}
    headers.update(case.headers)
    token = client.cookies["csrftoken"].value
    if case.csrf == "header":  # as htmx sends it; the middleware reads it for a body of any kind
        headers["X-CSRFToken"] = token
    method = getattr(client, case.method)
    if case.method in ("get", "head", "options"):
        return method(path, headers=headers)
    body = dict(case.body)
    if case.csrf == "field":  # as a form sends it
        body["csrfmiddlewaretoken"] = token
    if case.encoding == "multipart" and case.method == "post":
        return client.post(path, data=body, headers=headers)
    if case.encoding == "urlencoded" or case.csrf == "field":
        flat = {k: v for k, v in body.items() if not isinstance(v, SimpleUploadedFile)}
        encoded = urlencode(flat, doseq=True)
        return method(path, data=encoded, content_type="application/x-www-form-urlencoded", headers=headers)
    # generic() sends the bytes as they are, whatever charset the content type claims.
    content_type = case.content_type or "application/octet-stream"
    return client.generic(case.method.upper(), path, data=case.raw, content_type=content_type, headers=headers)


def _sent_to_sign_in(response) -> bool:
    return response.status_code == 302 and urlsplit(response["Location"]).path == "/login/"


def _refused(response) -> bool:
    """A 4xx, or a visitor sent to sign in first."""
    return response.status_code >= 400 or _sent_to_sign_in(response)


def attempt(cookies, case: Case, w: FuzzWorld, before: dict):
    """Send one request in a savepoint that is rolled back; check what it answered and what it stored.

    before: the snapshot of the world, which every example starts from (the last one was rolled back).
    """
    try:
        with transaction.atomic(), override_settings(GENSIDIG_DEMO_OUTBOX=case.demo):
            # CSRF is checked as in production: its middleware reads the body before any view does.
            client = fuzzing.copy_client(cookies, csrf_checks=True)
            if case.answer_cookie:
                client.cookies[ANSWER_COOKIE] = w.answer_cookie
            for name, value in case.cookies.items():
                client.cookies[name] = value
            written = fuzzing.writes_so_far()
            response = send(client, case)
            status = response.status_code
            assert status in EXPECTED, f"{case.method.upper()} {case.path}?{case.query} answered {status}"
            # The rest looks at what was stored, so only where a row was written at all: most
            # requests write none, and then no table changed. A refusal, of a write or of a page,
            # stores nothing.
            if fuzzing.writes_so_far() == written:
                pass
            elif _refused(response):
                changed = fuzzing.changed_tables(before, fuzzing.snapshot())
                assert not changed, f"{case.method.upper()} {case.path} was refused ({status}) but changed {changed}"
            else:
                # The database's own constraints hold (deferred ones too), and the pages still work.
                connection.check_constraints()
                for page in ("/", case.path):
                    assert client.get(page).status_code in EXPECTED, f"{page} after {case.method.upper()} {case.path}"
            transaction.set_rollback(True)
    finally:
        # Process caches may hold rows the rollback took away.
        clear_caches()
        forget_bounds()
    return response


def fuzz_route(route: Route, *, w: FuzzWorld, cookies, n: int, seen: Counter, before: dict):
    """n examples of requests to one URL; before: the snapshot every example starts from."""

    @seed(SEED)
    @settings(max_examples=examples(n), **SETTINGS)
    @given(case=case_strategy(route, w), how=st.sampled_from(CSRF_WAYS))
    def fuzz(case, how):
        case.csrf = how
        response = attempt(cookies, case, w, before)
        seen[(route.name, case.method, response.status_code)] += 1
        # The middleware looks for a token in the form fields of a POST only, and in the header.
        if case.method in WRITES and (how == "none" or (how == "field" and case.method != "post")):
            # Refused before the view runs: 403. Only an address that is no page at all is a 404
            # instead; and a multipart body without its boundary, which the middleware cannot read
            # to look for the token, may be a 400 (unless it is empty, and so not read at all).
            expected = {403} if _resolves(case.path) else {404}
            if case.method == "post" and case.encoding == "raw" and case.content_type.startswith("multipart/"):
                expected = {400, 403} if 403 in expected else expected
            assert response.status_code in expected, (
                f"{case.method.upper()} {case.path} without a CSRF token got {response.status_code}"
            )

    fuzz()


def _admitted(cookies, route: Route, w: FuzzWorld) -> bool:
    """Whether the role gets past the URL's checks with some of its real values: a page, or a write
    it may make (with the first value each field of the URL's forms offers)."""
    form = w.forms.get(route.name)
    body = {name: next(iter(f.options)) for name, f in form.fields.items() if f.options} if form else {}
    for values in w.real.get(route.name, [{}]):
        path = route.path({k: quote(v, safe="") for k, v in values.items()})
        try:
            with transaction.atomic(), override_settings(GENSIDIG_DEMO_OUTBOX=route.name.startswith("demo-")):
                client = fuzzing.copy_client(cookies)
                got = client.get(path)
                if got.status_code != 200 and form is not None and form.method == "post":
                    got = client.post(path, body)
                transaction.set_rollback(True)
        finally:
            clear_caches()
            forget_bounds()
        # A 400 is the form's answer to the body, so the role got in; 403, 404 and 405 keep it out.
        if got.status_code not in (403, 404, 405) and not _sent_to_sign_in(got):
            return True
    return False


def _resolves(path: str) -> bool:
    try:
        resolve(unquote(path, errors="replace"))
    except Resolver404:
        return False
    return True


class Run:
    """One role's walk over the URLs: what each answered, how long each took, and what failed."""

    def __init__(self, label: str):
        self.label = label
        # Every example and every probe is rolled back, so the world stays as it is now.
        self.before = fuzzing.snapshot()
        self.seen: Counter = Counter()
        self.seconds: Counter = Counter()
        self.failures: list[str] = []
        self.started = time.monotonic()

    def fuzz(self, route: Route, **kwargs) -> None:
        """Fuzz one URL; a failure is kept, so that one URL's bug does not hide the next URL's."""
        clock = time.monotonic()
        try:
            fuzz_route(route, seen=self.seen, before=self.before, **kwargs)
        except Exception as error:  # reported below, with hypothesis' smallest example
            self.failures.append(f"--- {route.name} ---\n" + "".join(traceback.format_exception(error)))
        self.seconds[route.name] += time.monotonic() - clock

    def report(self, capsys) -> None:
        with capsys.disabled():
            if VERBOSE:
                for (name, method, status), count in sorted(self.seen.items()):
                    print(f"  {self.label:16} {name:28} {method:7} {status} x{count}")
                for name, seconds in self.seconds.most_common(8):
                    print(f"  {self.label:16} {name:28} {seconds:.2f} s")
            urls = len({name for name, _method, _status in self.seen})
            print(
                f"\nfuzz [{self.label}]: {urls} URLs, {sum(self.seen.values())} examples in"
                f" {time.monotonic() - self.started:.1f} s (FUZZ_SEED={SEED} replays it)"
            )
        if self.failures:
            pytest.fail(f"{len(self.failures)} URLs failed as {self.label}:\n\n" + "\n\n".join(self.failures))


# Who gets past each URL's checks in this world, with some of its real values (a page, or a write
# the role may make): these get ADMITTED examples, the others REFUSED. A new URL fails
# test_every_url_says_who_gets_in until it is added here, and so until it is fuzzed both ways.
# chief-beside gets in to the round pages through the round of the campaign open in their branch.
# (Downloads are not probed, since a PDF takes a second or more to render; they are fuzzed all the same.)
EVERYONE = frozenset(ROLES)
ROUND_CHIEFS = frozenset({"chief", "chief-beside", "chief-of-chiefs"})
REPORT_CHIEFS = frozenset({"chief", "chief-of-chiefs"})
ADMITS: dict[str, frozenset[str]] = {
    **dict.fromkeys([*test_access.PUBLIC, "set_language", "demo-outbox", "demo-outbox-message"], EVERYONE),
    **dict.fromkeys(
        ["round", "round-close", "round-close-confirm", "round-remind", "round-resend", "round-extend"], ROUND_CHIEFS
    ),
    "own-round-new": frozenset({"chief", "chief-beside"}),
    "own-round-mail-preview": frozenset({"chief"}),
    **dict.fromkeys(
        ["report", "report-theme", "report-pdf", "figures-xlsx", "figures-csv", "guide", "guide-pdf", "guide-present"],
        REPORT_CHIEFS,
    ),
    **dict.fromkeys(["guide-present-step", "guide-present-agreement", "agreements", "share"], REPORT_CHIEFS),
    **dict.fromkeys(["agreement-status", "agreement-delete", "agreement-edit"], frozenset({"chief"})),
    **dict.fromkeys(
        ["team-report", "team-report-theme", "team-report-pdf", "team-figures-xlsx", "team-figures-csv"],
        frozenset({"leader"}),
    ),
    **{route.name: frozenset({"hr"}) for route in routes() if route.name.startswith(("org", "campaign"))},
    "rollup-start": frozenset({"chief-beside", "chief", "hr", "chief-of-chiefs"}),
    "rollup": frozenset({"hr", "chief-of-chiefs"}),
}


@pytest.mark.parametrize("role", list(ROLES))
def test_no_url_answers_a_server_error_or_stores_half_a_change(fuzz_world, role, capsys):
    w = fuzz_world
    client = fuzzing.client_for(w.users[role])
    run = Run(role)
    locked_out = []
    for route in routes():
        if route.name.endswith("-pdf"):
            n = PDF_EXAMPLES
        elif route.name.endswith(DOWNLOADS):
            n = DOWNLOAD_EXAMPLES
        elif role in ADMITS.get(route.name, ()):
            n = ADMITTED
            # It does get in, so the examples reach the view's forms. (That the others are kept
            # out of every URL is tests/views/test_access.py's to check; here they are tried.)
            if not _admitted(client.cookies, route, w):
                locked_out.append(route.name)
        else:
            n = REFUSED
        run.fuzz(route, w=w, cookies=client.cookies, n=n)
    run.report(capsys)
    assert not locked_out, f"ADMITS lets {role} into {locked_out}, and no real value of theirs gets past the checks"
    # Every URL was tried, not only those the role may use.
    assert {name for name, _method, _status in run.seen} == {route.name for route in routes()}


def test_every_url_says_who_gets_in():
    names = {route.name for route in routes()}
    assert set(ADMITS) == names, f"say in ADMITS who gets into {names - set(ADMITS)}; gone: {set(ADMITS) - names}"


def test_every_url_in_the_urlconf_is_fuzzed_with_real_values(fuzz_world):
    for route in routes():
        assert route.name in fuzz_world.real, f"give {route.name} real path values in tests/test_fuzz_endpoints.py"
        for _converter, name in route.parameters:
            assert any(name in values for values in fuzz_world.real[route.name]), (route.name, name)


def test_the_forms_were_read_from_the_pages(fuzz_world):
    """The fuzz reaches into the forms: it found the fields of the pages that write."""
    forms = fuzz_world.forms
    assert {"name", "email", "manager_email", "language"} <= set(forms["org-person-new"].fields)
    assert "chart" in forms["org-import"].fields and forms["org-import"].fields["chart"].kind == "file"
    assert {"closes_on", "closes_time"} <= set(forms["round-extend"].fields)
    assert {"theme", "text", "owner", "due_on"} <= set(forms["agreements"].fields)
    assert {"add", "leave_out", "closes_on", "closes_time", "action"} <= set(forms["own-round-new"].fields)
    assert forms["org-admin-remove"].fields["admin"].options  # the admins' ids, from the page
    for name in ("campaign-close", "campaign-remind", "campaign-withdraw", "campaign-launch", "round-remind"):
        assert forms[name].method == "post", name
    assert len(forms) >= 40


def test_the_snapshot_sees_a_changed_row_and_the_counter_every_write(fuzz_world):
    """The checks above rest on these two: a write moves the counter, and a changed row the snapshot."""
    before, written = fuzzing.snapshot(), fuzzing.writes_so_far()
    with transaction.atomic():
        Person.objects.filter(email="l10@a.dk").update(name="Ændret")
        assert fuzzing.writes_so_far() > written
        assert fuzzing.changed_tables(before, fuzzing.snapshot()) == [Person._meta.db_table]
        transaction.set_rollback(True)
    with transaction.atomic():
        # A refused sign-in is recorded by design, and nothing else is allowed to change.
        audit_trail.record(AuditAction.SIGN_IN_FAILED, target="x@a.dk")
        assert fuzzing.changed_tables(before, fuzzing.snapshot()) == []
        audit_trail.record(AuditAction.SETTINGS_CHANGED, target="A")
        assert fuzzing.changed_tables(before, fuzzing.snapshot()) == [AuditEvent._meta.db_table]
        transaction.set_rollback(True)
    assert fuzzing.changed_tables(before, fuzzing.snapshot()) == []


# --- The org chart's upload ------------------------------------------------------------------

CHART_EXAMPLES = 20


def test_no_chart_file_gets_a_server_error_and_every_refusal_says_why(fuzz_world, capsys):
    """Upload, preview and apply any file as HR: a clear message (400 with the problems), never a 500."""
    client = fuzzing.client_for(fuzz_world.users["hr"])
    slowest: list[float] = [0.0]
    started = time.monotonic()

    @seed(SEED)
    @settings(max_examples=examples(CHART_EXAMPLES), **SETTINGS)
    @given(upload=chart_files(), confirm=st.sampled_from(["", "0", "1", "3", "²", "99999999999"]))
    def fuzz(upload, confirm):
        with transaction.atomic():
            clock = time.monotonic()
            response = client.post("/org/a/import/", {"chart": upload})
            assert response.status_code in (302, 400, 413), response.status_code
            if response.status_code != 302:
                assert b'role="alert"' in response.content or response.status_code == 413
            else:
                preview = response["Location"]
                shown = client.get(preview)
                assert shown.status_code in (200, 400), shown.status_code
                if shown.status_code == 400:
                    assert b'role="alert"' in shown.content
                before = fuzzing.snapshot()
                applied = client.post(preview, {"confirm_leaving": confirm})
                assert applied.status_code in (302, 400), applied.status_code
                if applied.status_code == 400:
                    assert b'role="alert"' in applied.content
                    assert not fuzzing.changed_tables(before, fuzzing.snapshot())
                else:
                    connection.check_constraints()
                    assert not ChartUpload.objects.filter(public_id=preview.rstrip("/").split("/")[-1]).exists()
            slowest[0] = max(slowest[0], time.monotonic() - clock)
            transaction.set_rollback(True)
        clear_caches()

    fuzz()
    with capsys.disabled():
        took = time.monotonic() - started
        print(f"\nfuzz [chart]: {examples(CHART_EXAMPLES)} files in {took:.1f} s, slowest {slowest[0]:.2f} s")
