"""Helpers for the fuzz of every URL (tests/test_fuzz_endpoints.py).

The URLconf walked pattern by pattern; the forms a page offers, read from its HTML; hypothesis
strategies for path values, query strings and bodies built from those forms; and a snapshot of
every table, to tell a refused request that stored nothing from one that stored half.
"""

from __future__ import annotations

import datetime
import os
import random
import re
import string
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, urlencode, urljoin, urlsplit

from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import strategies as st

from gensidig.models import AuditAction, AuditEvent

# The answers a request may get. 5xx never: a bug is a 500, and a database that is down (503) is
# not what is tried here. 410 is a round whose answers the retention period deleted.
EXPECTED = {200, 201, 204, 301, 302, 303, 400, 403, 404, 405, 409, 410, 413, 429}

# One seed for the run, printed. Fixed by default, so that CI runs the same examples every time and
# is never flaky; FUZZ_SEED=<n> tries others (FUZZ_SEED=random draws one) and replays a failure.
DEFAULT_SEED = 20251111
_seed = os.environ.get("FUZZ_SEED") or str(DEFAULT_SEED)
SEED = random.SystemRandom().randrange(2**32) if _seed == "random" else int(_seed)
# FUZZ_EXAMPLES=10 runs ten times as many examples as the default (which keeps CI in budget).
SCALE = float(os.environ.get("FUZZ_EXAMPLES") or 1)

# Who tries: anonymous, someone with an account and no role, another organisation's HR, a leader,
# a chief of another branch, the chief of the round, HR of the organisation and the chief of chiefs.
ROLES = {
    "anonymous": None,
    "outsider": "outsider@x.dk",
    "other-hr": "hr@b.dk",
    "leader": "l10@a.dk",
    "chief-beside": "chief2@a.dk",
    "chief": "chief1@a.dk",
    "hr": "hr@a.dk",
    "chief-of-chiefs": "top@a.dk",
}


def examples(n: int) -> int:
    return max(1, round(n * SCALE))


# --- The URLconf ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # the URL's name without its namespace, e.g. "org-person"
    route: str  # e.g. "org/<slug:slug>/people/<int:person_id>/"

    @property
    def parameters(self) -> list[tuple[str, str]]:
        """(converter, name) of each path parameter."""
        return [(converter or "str", name) for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", self.route)]

    def path(self, values: dict[str, str]) -> str:
        """The path with each parameter's value put in as it is given (already percent-encoded)."""
        return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], self.route)


def routes() -> list[Route]:
    """Every named pattern of the URLconf, includes flattened."""
    found = []

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                assert pattern.name, f"a URL without a name cannot be fuzzed by name: {prefix}{pattern.pattern}"
                found.append(Route(pattern.name, prefix + str(pattern.pattern)))

    walk(get_resolver().url_patterns, "")
    return found


# --- Forms read from pages -----------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # the input's type: text, email, date, time, number, file, hidden, checkbox, radio, select, ...
    # The values the page offers (options, radio and box values), in the page's order: not sorted,
    # since ids sort differently from run to run, and a fixed seed must draw the same examples.
    options: dict[str, None] = field(default_factory=dict)


@dataclass
class Form:
    action: str  # the path it posts to
    method: str
    fields: dict[str, Field] = field(default_factory=dict)

    def add(self, name: str | None, kind: str, value: str | None = None) -> None:
        if not name or name == "csrfmiddlewaretoken":
            return
        found = self.fields.setdefault(name, Field(name, kind))
        if value is not None and kind not in ("text", "email", "textarea", "search", "password"):
            found.options[value] = None


class _FormParser(HTMLParser):
    def __init__(self, page_path: str):
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            action = urljoin(self.page_path, a.get("action") or self.page_path)
            self._form = Form(urlsplit(action).path, (a.get("method") or "get").lower())
        elif self._form is None:
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            self._form.add(a.get("name"), kind, a.get("value"))
        elif tag == "button" or (tag == "input" and a.get("type") == "submit"):
            self._form.add(a.get("name"), "submit", a.get("value"))
        elif tag == "select":
            self._select = a.get("name")
            self._form.add(self._select, "select")
        elif tag == "option" and self._select:
            self._form.add(self._select, "select", a.get("value"))
        elif tag == "textarea":
            self._form.add(a.get("name"), "textarea")

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._select = None


def forms_on(page_path: str, html: str) -> list[Form]:
    parser = _FormParser(page_path)
    parser.feed(html)
    return parser.forms


def merge(into: dict[str, Form], form: Form, key: str) -> None:
    """Gather the fields of every form that posts to the same URL (by the URL's name)."""
    known = into.setdefault(key, Form(form.action, form.method))
    for name, found in form.fields.items():
        mine = known.fields.setdefault(name, Field(name, found.kind))
        mine.options.update(found.options)


def client_for(user, *, csrf_checks: bool = False) -> Client:
    """A client signed in as the user (None: nobody), holding the CSRF cookie the sign-in page sets."""
    client = Client(enforce_csrf_checks=csrf_checks)
    if user is not None:
        client.force_login(user)
    client.get("/login/")
    assert "csrftoken" in client.cookies
    return client


def copy_client(cookies, *, csrf_checks: bool = False) -> Client:
    """A fresh client with the same cookies (so a sign-out in one example does not carry to the next)."""
    client = Client(enforce_csrf_checks=csrf_checks)
    for key, morsel in cookies.items():
        client.cookies[key] = morsel.value
    return client


# --- Values --------------------------------------------------------------------------------

# Text of any kind, control characters and NUL included; surrogates cannot be sent in UTF-8.
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
control_text = st.text(st.sampled_from([*map(chr, range(32)), "\x7f", "\u2028", "\ufeff", "\u202e"]), max_size=8)
long_text = st.builds(
    lambda c, n: c * n, st.sampled_from(["a", "æ", "💥", "\x00", "<", "%", "9"]), st.integers(300, 6000)
)
numbers = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.integers(0, 10**6).map(str),
    st.sampled_from(
        ["0", "-1", "1e309", "NaN", "inf", "-0", "²", "٣", "0x10", " 5 ", "5.5", "9" * 25, "9" * 5000, "1_000", "+3"]
    ),
)
days_ahead = st.integers(-400, 800).map(lambda d: (datetime.date.today() + datetime.timedelta(days=d)).isoformat())
dates = st.one_of(
    days_ahead,
    st.dates().map(datetime.date.isoformat),
    st.dates().map(lambda d: d.strftime("%d-%m-%Y")),
    st.sampled_from(
        ["9999-12-31", "0001-01-01", "2024-02-30", "10000-01-01", "2024-13-01", "31.12.2099", "2025-1-1", "0000-00-00"]
    ),
)
times = st.one_of(
    st.times().map(lambda t: t.strftime("%H:%M")),
    st.sampled_from(["24:00", "23:59:60", "99:99", "00:00", "23:59", "-1:00", "12:00:00.999999"]),
)
emails = st.one_of(
    st.emails().map(str),
    st.sampled_from(
        [
            "l10@a.dk",
            "L11@A.DK",
            "chief1@a.dk",
            "chief2@a.dk",
            "top@a.dk",
            "hr@a.dk",
            "hr@b.dk",
            "ny@a.dk",
            "@",
            "a@b",
            "æøå@æøå.dk",
            "a@" + "b" * 250 + ".dk",
            "x\x00@a.dk",
        ]
    ),
    st.lists(st.sampled_from(["l10@a.dk", "l20@a.dk", "chief2@a.dk", "ny@a.dk", "x@", "top@a.dk"]), max_size=5).map(
        lambda xs: "\n".join(xs)
    ),
)
# Values that have broken parsers before: digits int() refuses ("²"), NUL (which PostgreSQL text
# cannot hold), dates that look right and are not, numbers beyond every column.
NASTY = ["²", "٣", "\x00", "a\x00b", "%00", "2024-13-45", "2024-02-30", "9999-12-31", "0001-01-01"]
NASTY += ["9" * 25, "-1", "", " ", "1e309", "NaN", "../", "<script>", "' OR 1=1 --", "\u202e", "x" * 300, "{}", "[]"]
nasty = st.sampled_from(NASTY)
weird = st.one_of(st.just(""), any_text, control_text, long_text, numbers, dates, emails)


def weighted(*choices: tuple[st.SearchStrategy, int]) -> st.SearchStrategy:
    """One of the strategies, each drawn as often as its weight says (one_of picks a branch evenly;
    a flatmap would do the same, at the cost of validating a new strategy at every draw)."""
    return st.one_of([strategy for strategy, weight in choices for _ in range(weight)])


def plausible_value(found: Field) -> st.SearchStrategy:
    """What a person filling in the form could send: an offered value, or text of the expected kind."""
    name = found.name.lower()
    if found.options:
        offered = st.sampled_from(list(found.options))
        if found.kind == "checkbox":
            return st.lists(offered, max_size=len(found.options), unique=True)
        return offered
    if found.kind == "file":
        return st.just("")
    if "email" in name or name in ("reports_to", "username", "add"):
        return st.sampled_from(["l10@a.dk", "l21@a.dk", "chief2@a.dk", "ny@a.dk", "ny2@a.dk", ""])
    if found.kind == "date" or name.endswith(("_on", "date")):
        return days_ahead
    if found.kind == "time" or name.endswith("time"):
        return st.sampled_from(["23:59", "09:00", "00:00"])
    if found.kind == "number":
        return st.integers(0, 100).map(str)
    return st.text(string.ascii_letters + "æøå ", min_size=1, max_size=30)


BAD_DATES = ["2024-13-45", "2024-02-30", "9999-12-31", "0001-01-01", "10000-01-01", "0000-00-00", "31-12-2099"]
BAD_TIMES = ["24:00", "23:59:60", "99:99", "-1:00", "12:00:00.999999", "2400"]
BAD_NUMBERS = ["²", "٣", "9" * 25, "-1", "1e309", "0x10", " 5", "5.0", "9" * 5000]


def value_for(found: Field) -> st.SearchStrategy:
    """A value for one field: often what the page offers or what the field expects, often not."""
    name = found.name.lower()
    options = list(found.options)
    if found.kind == "email" or "email" in name or name in ("add", "reports_to", "username"):
        plausible, odd = emails, st.sampled_from(["@", "a@b", "x\x00@a.dk", "a@" + "b" * 250 + ".dk", "æ@æ.dk"])
    elif found.kind == "date" or name.endswith(("_on", "date", "since")):
        plausible, odd = dates, st.sampled_from(BAD_DATES)
    elif found.kind == "time" or name.endswith("time"):
        plausible, odd = times, st.sampled_from(BAD_TIMES)
    elif found.kind == "number" or (options and all(o.isdigit() for o in options)):
        plausible, odd = numbers, st.sampled_from(BAD_NUMBERS)
    elif found.kind == "textarea":
        plausible, odd = st.one_of(any_text, emails), long_text
    else:
        plausible, odd = any_text, nasty
    choices = [(plausible, 2), (odd, 2), (nasty, 1), (weird, 1)]
    if options:
        choices.append((st.sampled_from(options), 3))
    one = weighted(*choices)
    return weighted((one, 4), (st.lists(one, min_size=2, max_size=4), 1))


# --- Path values ---------------------------------------------------------------------------

URL_UNSAFE = st.binary(min_size=1, max_size=30).map(lambda b: quote(b, safe=""))


def path_value(converter: str) -> st.SearchStrategy[str]:
    """A path parameter of the wrong shape, already percent-encoded for the path."""
    wrong = st.one_of(
        nasty.filter(bool).map(lambda s: quote(s, safe="")),
        any_text.filter(bool).map(lambda s: quote(s, safe="")),
        URL_UNSAFE,  # percent-encoded bytes, invalid UTF-8 and NUL among them
        st.integers(-(10**30), 10**30).map(str),
        st.sampled_from(["0", "-1", "9" * 40, "%00", "..", ".", "-", "%2e%2e", "a" * 300, "00000000001", "%20"]),
        st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=60),
        st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=60).map(lambda s: "-" + s),
        st.text(string.digits, min_size=1, max_size=30).map(lambda s: "-" + s),
    )
    if converter == "token":
        wrong = st.one_of(wrong, st.text(string.ascii_letters + string.digits + "-_", min_size=43, max_size=43))
    return wrong


# --- Query strings -------------------------------------------------------------------------

QUERY_KEYS = ["q", "page", "since", "action", "theme", "inactive", "reminder", "next", "closes_on", "closes_time"]
QUERY_KEYS += ["opened", "chief", "step", "language", "format", "share"]


def query_strings(form: Form | None = None) -> st.SearchStrategy:
    """A query string: the fields of the page's own search or filter form, or any keys, or bytes."""
    keys = weighted((st.sampled_from(QUERY_KEYS), 4), (any_text.filter(bool), 1))
    values = weighted(
        (nasty, 2),
        (weird, 2),
        (st.sampled_from(["1", "2", "waiting", "direction", "/", "//evil.example", "https://e.x/"]), 2),
    )
    encoded = st.dictionaries(keys, st.one_of(values, st.lists(values, max_size=3)), max_size=4).map(
        lambda d: urlencode(d, doseq=True)
    )
    raw = st.one_of(URL_UNSAFE, st.text(string.printable, max_size=40).map(lambda s: quote(s, safe="=&%+;")))
    if form is None or not form.fields:
        return weighted((st.just(""), 1), (encoded, 2), (raw, 1))
    filters = st.fixed_dictionaries({}, optional={name: value_for(f) for name, f in form.fields.items()}).map(
        lambda d: urlencode(d, doseq=True)
    )
    return weighted((st.just(""), 1), (filters, 4), (encoded, 1), (raw, 1))


# --- The database, before and after ----------------------------------------------------------

# The audit trail records a refused sign-in by design (issue 11: "sign-in and failed sign-in"); a
# refused request may add those rows and nothing else. django-axes counts wrong passwords likewise.
REFUSALS_RECORDED = (AuditAction.SIGN_IN_FAILED, AuditAction.SIGN_IN_LOCKED)
COUNTS_REFUSALS = ("axes_accessattempt", "axes_accessfailurelog")


def writes_so_far() -> int:
    """How many rows this connection has inserted, updated or deleted so far (SQLite since it
    opened, PostgreSQL in this transaction). While it stands still, no table changed."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables")
        else:
            cursor.execute("SELECT total_changes()")
        return int(cursor.fetchone()[0])


def snapshot() -> dict[str, object]:
    """Every table's rows (on PostgreSQL: their count and a checksum), as the open transaction sees them."""
    quote_name = connection.ops.quote_name
    audit = AuditEvent._meta.db_table
    refusals = ", ".join(f"'{action}'" for action in REFUSALS_RECORDED)  # the enum's own values, no input
    with connection.cursor() as cursor:
        tables = [t for t in connection.introspection.table_names(cursor) if t not in COUNTS_REFUSALS]
        where = {table: f" WHERE t.{quote_name('action')} NOT IN ({refusals})" for table in tables if table == audit}
        if connection.vendor == "postgresql":
            # One statement, each table summed up by the server: a row's text form holds every column.
            sql = " UNION ALL ".join(
                f"SELECT %s, count(*), md5(coalesce(string_agg(md5(t::text), ',' ORDER BY md5(t::text)), ''))"
                f" FROM {quote_name(table)} t{where.get(table, '')}"
                for table in tables
            )
            cursor.execute(sql, tables)
            return {table: (count, digest) for table, count, digest in cursor.fetchall()}
        state = {}
        for table in tables:
            cursor.execute(f"SELECT * FROM {quote_name(table)} t{where.get(table, '')}")  # names from the database
            state[table] = Counter(cursor.fetchall())  # the rows as a multiset: order does not matter
    return state


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(table for table in before.keys() | after.keys() if before.get(table) != after.get(table))
