#!/usr/bin/env python3
"""Throughput of full leader submissions against a one-row insert, served the same way (``make bench``).

For each database -- SQLite in a fresh data folder, PostgreSQL in a fresh database that is dropped
afterwards -- the script migrates a new schema, opens enough rounds that every submission has an
unused answer link of its own, starts the production server (``gensidig serve``: gunicorn sync
workers) on a free port on 127.0.0.1, and sends it, from 16 concurrent clients:

* baseline: POSTs to ``/bench/baseline/``, a view that inserts one row in one transaction;
* submissions: the last POST of a leader's answer form, every question answered with varied
  values and a comment in about one in three, each from a browser that already holds its answer
  cookie (the link opened). Each is sealed into one ballot and stored with the claim of its link.
  Twice: spread over the rounds (as a municipality's teams answer), and sixteen at a time into
  one round (the case of DESIGN.md 2.8, where submissions to a round take turns);
* the baseline again, so that a change in the machine's load during the run shows.

Every phase runs for the same time (10 s by default; ``--duration 0`` sends the same number of
requests in each instead) against the same server, after an untimed warm-up and an untimed
settling of the database (PostgreSQL: CHECKPOINT and VACUUM ANALYZE; SQLite: the write-ahead log
checkpointed), so the background work one phase causes does not land in the next. Preparing the
cookies is not timed: each timed request is exactly one final POST. Afterwards every round is
closed (its ballots opened and counted) and the database is checked against what was sent: one
used invitation per accepted submission, every counter exactly as the answers sent add up, every
comment and every baseline row.

Throughput is reported as a ratio to the baseline of the same run (the mean of its two phases);
the goal is 0.6 (docs/metrics.md). This is a
measurement: the exit status is 0 when the goal is missed, 1 on any error or lost count, and 2
when the benchmark could not run (e.g. ``--require-postgres`` and PostgreSQL is unreachable).
Traffic goes only to 127.0.0.1; every phase is bounded in count and time.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.util
import json
import math
import os
import random
import re
import statistics
import sys
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from common import (
    COMMENT_PHRASES,
    DATA_MARKER,
    HOST,
    BenchmarkFailed,
    Postgres,
    add_database_arguments,
    collected_static,
    django_setup,
    each_database,
    exit_status,
    finish,
    free_port,
    fresh_database,
    gensidig_command,
    helper_command,
    helper_output,
    limit_run_time,
    parse_databases,
    percentile_ms,
    production_server,
    run_command,
    run_helper,
    settle_sqlite,
    tail,
    versions,
)
from common import app_env as common_app_env

GOAL = 0.6
LEADERS_PER_TEAM = 30
SQLITE_FILE = "gensidig.sqlite3"  # in the app's data folder, as settings.py names it
# The most baseline requests in a timed phase (it needs no links, so only time bounds it in practice).
BASELINE_CAP = 200_000
BASELINE = "baseline: one-row insert"
BASELINE_AGAIN = "baseline again, after the submissions"
DEFAULT_POSTGRES_URL = "postgres://127.0.0.1:5432/gensidig_bench"
ANSWER_COOKIE = "gensidig_answer"  # gensidig.views.answer.ANSWER_COOKIE


# --- Helpers run inside Django, in a subprocess with the app's settings ------------------------


def helper_make_data() -> None:
    """Open rounds of LEADERS_PER_TEAM leaders for each group asked for; print their tokens as JSON."""
    spec = json.load(sys.stdin)
    django_setup()
    import datetime

    from django.db import transaction
    from django.utils import timezone

    from gensidig.models.choices import Role
    from gensidig.services.organisation.teams import create_team, get_or_create_organisation
    from gensidig.services.survey.instruments import current_instrument, framework_for
    from gensidig.services.survey.questions import questions_for
    from gensidig.services.survey.rounds import open_round

    leaders = spec["leaders_per_team"]
    closes_at = timezone.now() + datetime.timedelta(days=7)
    organisation = get_or_create_organisation(slug="benchmark", name="Benchmark Kommune")
    groups, number = {}, 0
    for group, wanted in spec["groups"].items():
        rounds = []
        while wanted > 0:
            number += 1
            with transaction.atomic():
                team = create_team(
                    organisation=organisation,
                    name=f"Benchmark team {number}",
                    chief_email=f"chief-{number}@bench.example",
                    leader_emails=[f"leader-{number}-{i}@bench.example" for i in range(leaders)],
                )
                round_, links = open_round(team=team, closes_at=closes_at)
            tokens = [link.token for link in links if link.role == Role.LEADER][:wanted]
            rounds.append({"round": round_.pk, "tokens": tokens})
            wanted -= len(tokens)
        groups[group] = rounds
    instrument = current_instrument()
    result = {
        "questions": [[key, str(scale)] for key, scale in questions_for(instrument=instrument, role=Role.LEADER)],
        "themes": [theme.key for theme in framework_for(instrument, "da").themes],
        "groups": groups,
    }
    print(DATA_MARKER + json.dumps(result))


def helper_verify() -> None:
    """Compare the database with what the load generator says was accepted; print the findings as JSON."""
    expected = json.load(sys.stdin)
    django_setup()
    from django.db import connection
    from django.db.models import Count

    from gensidig.models import Comment, Invitation, RatingCounter, Round
    from gensidig.models.choices import RoundStatus
    from gensidig.services.survey.closing import close_round

    # The answers are sealed until their round closes: count them, as closing does.
    for round_ in Round.objects.filter(status=RoundStatus.OPEN).select_related("instrument"):
        close_round(round_=round_)

    rounds = {int(r): e for r, e in expected["rounds"].items()}
    used = dict(Invitation.objects.filter(used=True).values_list("round_id").annotate(n=Count("id")))
    chief_used = Invitation.objects.filter(used=True, role="chief").count()
    comments = dict(Comment.objects.values_list("round_id").annotate(n=Count("id")))
    want_counts = {
        (int(r), key, "leader", scale, value): n for r, e in rounds.items() for key, scale, value, n in e["counts"]
    }
    have_counts = {
        (r, key, role, scale, value): n
        for r, key, role, scale, *per_value in RatingCounter.objects.values_list(
            "round_id", "item__key", "role", "scale", *RatingCounter.VALUE_FIELDS
        )
        for value, n in enumerate(per_value)
        if n
    }
    lost = sum(max(n - have_counts.get(k, 0), 0) for k, n in want_counts.items())
    extra = sum(max(n - want_counts.get(k, 0), 0) for k, n in have_counts.items())
    with connection.cursor() as cursor:
        try:
            cursor.execute("SELECT COUNT(*) FROM gensidig_benchmark_row")
            baseline_rows = cursor.fetchone()[0]
        except Exception:
            baseline_rows = 0
    result = {
        "used": sum(used.values()),
        "used_by_round_mismatches": sum(
            1 for r in set(used) | set(rounds) if used.get(r, 0) != rounds.get(r, {}).get("used", 0)
        ),
        "chief_used": chief_used,
        "increments": sum(have_counts.values()),
        "lost": lost,
        "extra": extra,
        "comments": sum(comments.values()),
        "comment_mismatches": sum(
            1 for r in set(comments) | set(rounds) if comments.get(r, 0) != rounds.get(r, {}).get("comments", 0)
        ),
        "baseline_rows": baseline_rows,
    }
    print(DATA_MARKER + json.dumps(result))


HELPERS = {"_make-data": helper_make_data, "_verify": helper_verify}


# --- The server and the databases ---------------------------------------------------------------


def app_env(*, data_dir: Path, static_root: Path, port: int, database_url: str | None) -> dict[str, str]:
    """The app's settings for a server on `port`, with the benchmark's views (`/bench/baseline/`) on."""
    return common_app_env(
        data_dir=data_dir,
        static_root=static_root,
        site_url=f"http://{HOST}:{port}",
        database_url=database_url,
        GENSIDIG_BENCHMARK_VIEWS="true",
    )


# --- The load generator -------------------------------------------------------------------------

POST_HEADERS = {
    "Content-Type": "application/x-www-form-urlencoded",
    # What a browser sends under Referrer-Policy: no-referrer (see gensidig/middleware.py).
    "Origin": "null",
    "Sec-Fetch-Site": "same-origin",
}
FORM_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


class Client:
    """One simulated browser: a connection, its CSRF cookie and the token its forms carry."""

    def __init__(self, port: int, timeout: float):
        self.timeout = timeout
        self.connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
        self.csrf_cookie = ""
        self.form_token = ""

    def request(self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None):
        try:
            # gunicorn's sync workers close every connection; http.client opens the next one itself.
            self.connection.request(method, path, body=body, headers=headers or {})
            response = self.connection.getresponse()
            return response, response.read()
        except BaseException:
            self.connection.close()
            raise

    def start(self) -> None:
        """Read a CSRF cookie and a form token from the sign-in page, as a browser would."""
        response, body = self.request("GET", "/login/")
        cookies = set_cookies(response)
        match = FORM_TOKEN.search(body)
        if response.status != 200 or "csrftoken" not in cookies or match is None:
            raise BenchmarkFailed(f"GET /login/ gave {response.status} without a CSRF cookie and form token")
        self.csrf_cookie, self.form_token = cookies["csrftoken"], match.group(1).decode()

    def close(self) -> None:
        self.connection.close()


def set_cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    jar: dict[str, str] = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]
    return jar


@dataclass
class Submission:
    """One leader's answers and, once prepared, the answer cookie that holds their link (its own cookie jar)."""

    round_id: int
    token: str
    values: list[int]
    comment_theme: str | None
    comment: str
    cookie: str = ""
    body: bytes = b""


@dataclass
class Record:
    index: int
    problem: str | None
    seconds: float


@dataclass
class PhaseResult:
    label: str
    planned: int
    records: list[Record]
    seconds: float
    problems: Counter = field(default_factory=Counter)
    ran_out: bool = False  # every item was sent (in a timed phase: before the time was up)

    @property
    def ok(self) -> int:
        return sum(1 for r in self.records if r.problem is None)

    @property
    def errors(self) -> int:
        return self.planned - self.ok

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    def latency_ms(self, percent: int) -> float:
        return percentile_ms([r.seconds for r in self.records if r.problem is None], percent)


def run_phase(
    label: str, clients: list[Client], items: list, send, *, seconds: float, must_finish: bool, stop: threading.Event
) -> PhaseResult:
    """Every client takes the next item and sends it, until all are sent or `seconds` are up.

    With must_finish, an item not sent in time is an error; otherwise the phase simply ends then.
    """
    lock = threading.Lock()
    position = 0
    per_client: list[list[Record]] = [[] for _ in clients]
    gate = threading.Barrier(len(clients) + 1)
    deadline = math.inf  # set just before the clients are let go
    given_up = threading.Event()

    def take() -> int | None:
        nonlocal position
        with lock:
            if position >= len(items) or stop.is_set() or given_up.is_set() or time.monotonic() > deadline:
                return None
            position += 1
            return position - 1

    def work(client: Client, records: list[Record]) -> None:
        try:
            gate.wait(timeout=30)
        except threading.BrokenBarrierError:
            return
        while (index := take()) is not None:
            started = time.perf_counter()
            try:
                problem = send(client, items[index])
            except Exception as exc:
                problem = f"{type(exc).__name__}: {exc}"
            records.append(Record(index, problem, time.perf_counter() - started))

    threads = [
        threading.Thread(target=work, args=pair, daemon=True, name=f"bench-client-{i}")
        for i, pair in enumerate(zip(clients, per_client, strict=True))
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + seconds
    gate.wait(timeout=30)
    started = time.perf_counter()
    hard_end = deadline + clients[0].timeout + 5
    for thread in threads:
        thread.join(timeout=max(hard_end - time.monotonic(), 0))
    elapsed = time.perf_counter() - started
    hung = sum(thread.is_alive() for thread in threads)
    if hung:
        given_up.set()  # their requests time out on their own; they send nothing more
    records = sorted((r for records in list(per_client) for r in list(records)), key=lambda r: r.index)
    problems = Counter(r.problem for r in records if r.problem is not None)
    if hung:
        problems["no answer before the phase's hard end"] += hung
    if must_finish and len(records) + hung < len(items):
        problems[f"not sent within {seconds:.0f} s"] += len(items) - len(records) - hung
    sent = len(items) if must_finish else len(records) + hung
    return PhaseResult(label, sent, records, elapsed, problems, ran_out=len(records) == len(items))


def send_baseline(client: Client, _item: None) -> str | None:
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": client.form_token}).encode()
    headers = {**POST_HEADERS, "Cookie": f"csrftoken={client.csrf_cookie}"}
    response, content = client.request("POST", "/bench/baseline/", body=body, headers=headers)
    if response.status != 200 or content != b"ok":
        return f"baseline answered {response.status}"
    return None


def prepare_session(client: Client, submission: Submission, *, fields: list[str], last_step: int) -> str | None:
    """Open the answer link as the leader would from the e-mail; build the last page's POST with its answer cookie."""
    cookie = f"csrftoken={client.csrf_cookie}"
    response, _ = client.request("GET", f"/a/{submission.token}/", headers={"Cookie": cookie})
    held = set_cookies(response).get(ANSWER_COOKIE)
    if response.status != 302 or response.getheader("Location") != "/answer/" or not held:
        return f"the answer link answered {response.status} {response.getheader('Location')}"
    form = [("csrfmiddlewaretoken", client.form_token), ("step", str(last_step)), ("action", "send")]
    form += [(name, str(value)) for name, value in zip(fields, submission.values, strict=True)]
    if submission.comment_theme:
        form.append((f"comment-{submission.comment_theme}", submission.comment))
    submission.cookie = f"{cookie}; {ANSWER_COOKIE}={held}"
    submission.body = urllib.parse.urlencode(form).encode()
    return None


def send_submission(client: Client, submission: Submission) -> str | None:
    headers = {**POST_HEADERS, "Cookie": submission.cookie}
    response, _ = client.request("POST", "/answer/", body=submission.body, headers=headers)
    if response.status != 303 or response.getheader("Location") != "/answer/thanks/":
        return f"submission answered {response.status} {response.getheader('Location') or ''}".rstrip()
    return None


def make_submissions(rounds: list[dict], *, questions: int, themes: list[str], rng: random.Random, spread: bool):
    """Varied answers for every token: spread takes the rounds in turn, otherwise one round after another."""
    per_round = []
    for r in rounds:
        batch = []
        for token in r["tokens"]:
            values = [rng.randint(0, 5) for _ in range(questions)]
            theme = rng.choice(themes) if rng.random() < 1 / 3 else None
            comment = " ".join(rng.choices(COMMENT_PHRASES, k=rng.randint(1, 6))) if theme else ""
            batch.append(Submission(r["round"], token, values, theme, comment))
        per_round.append(batch)
    if not spread:
        return [s for batch in per_round for s in batch]
    longest = max((len(batch) for batch in per_round), default=0)
    return [batch[i] for i in range(longest) for batch in per_round if i < len(batch)]


# --- One database, and the check of what it holds -----------------------------------------------


@dataclass
class DatabaseReport:
    title: str
    setup: str
    phases: list[PhaseResult]
    check_ok: bool
    check_lines: list[str]

    @property
    def failed(self) -> bool:
        return not self.check_ok or any(p.errors for p in self.phases)


def expected_state(accepted: list[Submission], questions: list[list[str]]) -> dict:
    rounds: dict[int, dict] = {}
    counts: dict[int, Counter] = {}
    for s in accepted:
        entry = rounds.setdefault(s.round_id, {"used": 0, "comments": 0})
        entry["used"] += 1
        entry["comments"] += bool(s.comment_theme)
        counter = counts.setdefault(s.round_id, Counter())
        counter.update((key, scale, value) for (key, scale), value in zip(questions, s.values, strict=True))
    for round_id, counter in counts.items():
        rounds[round_id]["counts"] = [[*k, n] for k, n in counter.items()]
    return {"rounds": rounds}


def verify(env, accepted: list[Submission], baseline_rows: int, questions) -> tuple[bool, list[str]]:
    """Read back the database: every accepted submission counted once, nothing lost, nothing extra."""
    expected = expected_state(accepted, questions)
    found = helper_output(
        run_command(helper_command(__file__, "_verify"), env=env, stdin=json.dumps(expected), timeout=300)
    )
    increments = len(accepted) * len(questions)
    comments = sum(bool(s.comment_theme) for s in accepted)
    ok = (
        found["used"] == len(accepted)
        and found["used_by_round_mismatches"] == 0
        and found["chief_used"] == 0
        and found["lost"] == 0
        and found["extra"] == 0
        and found["increments"] == increments
        and found["comments"] == comments
        and found["comment_mismatches"] == 0
        and found["baseline_rows"] == baseline_rows
    )
    lines = [
        f"invitations used: {found['used']:,} = submissions answered 303: {len(accepted):,} "
        f"(rounds that differ: {found['used_by_round_mismatches']}, chiefs' links used: {found['chief_used']})",
        f"counters: {found['increments']:,} increments, expected {increments:,}; "
        f"lost {found['lost']}, extra {found['extra']}",
        f"comments: {found['comments']:,}, expected {comments:,} (rounds that differ: {found['comment_mismatches']}); "
        f"baseline rows: {found['baseline_rows']:,}, expected {baseline_rows:,}",
        "database check: " + ("OK, no lost or extra counts" if ok else "FAILED"),
    ]
    return ok, lines


def bench_database(kind: str, args, static_root: Path, postgres: Postgres | None, stop: threading.Event):
    rng = random.Random(args.seed)
    with contextlib.ExitStack() as cleanup:
        title, data_dir = fresh_database(cleanup, prefix=f"gensidig-bench-{kind}", postgres=postgres)
        port = free_port()
        database_url = postgres.url if postgres else None
        env = app_env(data_dir=data_dir, static_root=static_root, port=port, database_url=database_url)

        started = time.monotonic()
        run_command(gensidig_command("migrate", "--no-input", "-v", "0"), env=env, timeout=300)
        warmup = args.clients * args.warmup
        groups = {"warmup": warmup, "spread": args.requests}
        if args.same_round:
            groups["same_round"] = args.requests
        spec = json.dumps({"groups": groups, "leaders_per_team": LEADERS_PER_TEAM})
        data = helper_output(run_command(helper_command(__file__, "_make-data"), env=env, stdin=spec, timeout=900))
        questions, themes = data["questions"], data["themes"]
        fields = [f"q-{key}-{scale}" for key, scale in questions]
        shape = {"questions": len(questions), "themes": themes, "rng": rng}
        warm_subs = make_submissions(data["groups"]["warmup"], spread=True, **shape)
        spread = make_submissions(data["groups"]["spread"], spread=True, **shape)
        same_round = make_submissions(data["groups"].get("same_round", []), spread=False, **shape)
        every_sub = warm_subs + spread + same_round
        rounds = sum(len(g) for g in data["groups"].values())
        print(
            f"   schema, {rounds} open rounds of {LEADERS_PER_TEAM} leaders, {len(every_sub):,} unused links "
            f"({len(questions)} questions each): {time.monotonic() - started:.1f} s",
            flush=True,
        )

        phases: list[PhaseResult] = []
        notes: list[str] = []
        accepted: list[Submission] = []
        baseline_rows = 0
        log_path = data_dir / "server.log"
        clients = [Client(port, args.request_timeout) for _ in range(args.clients)]
        try:
            with production_server(env, port=port, workers=args.workers, log_path=log_path):
                for client in clients:
                    client.start()

                def prepare(client: Client, submission: Submission) -> str | None:
                    return prepare_session(client, submission, fields=fields, last_step=len(themes))

                untimed = {"seconds": args.phase_limit, "must_finish": True, "stop": stop}
                opened = run_phase("links", clients, every_sub, prepare, **untimed)
                if opened.errors:
                    raise BenchmarkFailed(f"opening the links failed: {dict(opened.problems.most_common(3))}")
                print(f"   {len(every_sub):,} links opened, one answer cookie each (untimed): {opened.seconds:.1f} s")

                def settle() -> None:
                    # What the last phase left the database to do in the background (dirty
                    # pages, dead rows, a long write-ahead log) is done here, untimed, instead of
                    # landing in whichever phase comes next: 2,000 ballots are 48 MB written.
                    if postgres:
                        postgres.settle()
                    else:
                        settle_sqlite(data_dir / SQLITE_FILE)

                def timed(label: str, items: list, send, warm_items: list) -> PhaseResult:
                    settle()
                    if warm_items:
                        warm = run_phase("warm-up", clients, warm_items, send, **untimed)
                        if warm.errors:
                            raise BenchmarkFailed(f"warm-up before {label!r}: {dict(warm.problems.most_common(3))}")
                    if args.duration:
                        result = run_phase(
                            label, clients, items, send, seconds=args.duration, must_finish=False, stop=stop
                        )
                    else:
                        result = run_phase(label, clients, items, send, **untimed)
                    print(f"   {label}: {result.ok:,} of {result.planned:,} in {result.seconds:.2f} s", flush=True)
                    if args.duration and result.ran_out and result.seconds < 0.9 * args.duration:
                        notes.append(
                            f"{label}: all {len(items):,} were sent in {result.seconds:.1f} s, before the "
                            f"{args.duration:g} s were up (raise --requests for a full-length phase)"
                        )
                    phases.append(result)
                    return result

                # One request alone first: the view creates its table on first use, and concurrent
                # CREATE TABLE IF NOT EXISTS can collide on PostgreSQL (pg_type_typname_nsp_index).
                if problem := send_baseline(clients[0], None):
                    raise BenchmarkFailed(f"the first baseline request: {problem}")
                baseline_count = BASELINE_CAP if args.duration else args.requests
                baseline = timed(BASELINE, [None] * baseline_count, send_baseline, [None] * warmup)
                baseline_rows = 1 + warmup + baseline.ok
                accepted += warm_subs
                for label, subs, warm in (
                    ("submissions, spread over rounds", spread, warm_subs),
                    (f"submissions, {args.clients} at a time in one round", same_round, []),
                ):
                    if subs:
                        result = timed(label, subs, send_submission, warm)
                        accepted += [subs[r.index] for r in result.records if r.problem is None]
                # The baseline once more: the machine's load may have changed meanwhile.
                again = timed(BASELINE_AGAIN, [None] * baseline_count, send_baseline, [])
                baseline_rows += again.ok
        except BaseException as exc:
            stop.set()  # no client sends anything more while the server stops
            if not isinstance(exc, KeyboardInterrupt | SystemExit):
                print(f"   server log (last lines):\n{tail(log_path)}", file=sys.stderr, flush=True)
            raise
        finally:
            for client in clients:
                client.close()

        check_ok, check_lines = verify(env, accepted, baseline_rows, questions)
        if not check_ok or any(p.errors for p in phases):
            print(f"   server log (last lines):\n{tail(log_path)}", flush=True)
        if args.duration:
            length = f"{args.duration:g} s per phase (at most {args.requests:,} submissions)"
        else:
            length = f"{args.requests:,} requests per phase"
        setup = (
            f"{args.workers} gunicorn sync workers, {args.clients} clients, {length}, after {warmup} warm-up requests"
        )
        return DatabaseReport(title, setup, phases, check_ok, notes + check_lines)


# --- Reporting and the command line -------------------------------------------------------------


def table(report: DatabaseReport) -> str:
    """The printed result: ratios are to the mean of the two baseline phases, before and after."""
    header = f"{'phase':<38} {'requests':>8} {'errors':>6} {'seconds':>8} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'ratio':>6}"
    lines = [f"{report.title} -- {report.setup}", header, "-" * len(header)]
    baselines = [p.per_second for p in report.phases if p.label in {BASELINE, BASELINE_AGAIN}]
    baseline = statistics.mean(baselines) if baselines else 0.0
    for phase in report.phases:
        ratio = phase.per_second / baseline if baseline else math.nan
        lines.append(
            f"{phase.label:<38} {phase.planned:>8,} {phase.errors:>6} {phase.seconds:>8.2f} {phase.per_second:>8.1f} "
            f"{phase.latency_ms(50):>7.1f} {phase.latency_ms(95):>7.1f} {ratio:>6.2f}"
        )
    if len(baselines) == 2 and baseline:
        drift = abs(baselines[1] - baselines[0]) / baseline
        warning = " -- the machine's load changed during the run; run it again" if drift > 0.2 else ""
        lines.append(f"baseline: {baseline:.1f} req/s, the mean of before and after ({drift:.0%} apart){warning}")
    for phase in report.phases:
        if phase.label in {BASELINE, BASELINE_AGAIN}:
            continue
        ratio = phase.per_second / baseline if baseline else math.nan
        verdict = "met" if ratio >= GOAL else "NOT met"
        lines.append(f"goal {GOAL} x baseline, {phase.label}: {verdict} ({ratio:.2f})")
    for phase in report.phases:
        for problem, n in phase.problems.most_common(5):
            lines.append(f"  ! {phase.label}: {n} x {problem}")
    lines += report.check_lines
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration",
        type=float,
        default=10,
        help="Seconds each timed phase runs (default 10); 0 sends exactly --requests in every phase instead.",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=2000,
        help="Answer links made for each submission phase, so the most it can send; with --duration 0, "
        "the requests in every phase (default 2000).",
    )
    parser.add_argument("--clients", type=int, default=16, help="Concurrent clients (default 16).")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers, for every phase (default 4).")
    add_database_arguments(parser, default_postgres_url=DEFAULT_POSTGRES_URL)
    parser.add_argument(
        "--no-same-round", dest="same_round", action="store_false", help="Skip the phase with all clients in one round."
    )
    parser.add_argument("--warmup", type=int, default=2, help="Untimed requests per client before a phase (default 2).")
    parser.add_argument(
        "--phase-limit",
        type=float,
        default=180,
        help="Seconds an untimed or --duration 0 phase may take at most (default 180).",
    )
    parser.add_argument("--request-timeout", type=float, default=60, help="Seconds one request may take (default 60).")
    parser.add_argument("--max-seconds", type=int, default=1800, help="Seconds the whole run may take (default 1800).")
    parser.add_argument("--seed", type=int, default=1, help="Seed for the answers sent (default 1).")
    args = parser.parse_args(argv)
    parse_databases(parser, args)
    for name in ("requests", "clients", "workers", "max_seconds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 <= args.duration <= args.phase_limit:
        parser.error("--duration must be between 0 and --phase-limit")
    return args


def collecting_env(folder: Path) -> dict[str, str]:
    """The settings that collect the static files once into `folder`, for every database's server."""
    return app_env(data_dir=folder, static_root=folder / "static", port=8000, database_url=None)


def main(argv: list[str]) -> int:
    if (status := run_helper(argv, HELPERS)) is not None:
        return status
    args = parse_args(argv)
    if importlib.util.find_spec("gensidig") is None:
        print("gensidig is not importable: run with the project's virtualenv (make bench).", file=sys.stderr)
        return 2

    limit_run_time(args.max_seconds)
    stop = threading.Event()
    print(
        f"Gensidig submission throughput: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"{versions('Django', 'gunicorn', 'psycopg')}; goal: submissions >= {GOAL} x the one-row baseline",
        flush=True,
    )
    reports: list[DatabaseReport] = []

    def run() -> int:
        try:
            with collected_static(collecting_env) as static_root:
                for kind, postgres in each_database(args):
                    reports.append(bench_database(kind, args, static_root, postgres, stop))
                    print(f"\n{table(reports[-1])}", flush=True)
        finally:
            stop.set()
        return 0

    return finish(run, stopped="the server was stopped") or exit_status(reports, "Errors or lost counts")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
