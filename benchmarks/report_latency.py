#!/usr/bin/env python3
"""The chief's report page against a one-row insert, served by the production server (``make bench``).

For each database -- SQLite in a fresh data folder, PostgreSQL in a fresh database that is dropped
afterwards -- the script migrates a new schema and, in a helper process with the app's settings,
makes one team per size asked for (``--sizes``, leaders per team), each with two closed rounds in
which every leader and the chief answered (varied values, some comments) and an agreement after
each round, so that the report shows a trend, the course over the rounds and agreements. It signs
each team's chief in (a session in the database, as the sign-in link gives one). Then it starts
``gensidig serve`` (gunicorn sync workers) on a free port on 127.0.0.1 with
``GENSIDIG_BENCHMARK_VIEWS=true`` and, from one client, one request at a time:

* the first view of each report page, untimed in the table but printed: the page is rendered from
  the round's figures then, and stored for the views after it;
* then, interleaved ``--requests`` times so that a change in the machine's load hits every target
  alike: the baseline (``POST /bench/baseline/``, one row inserted in one transaction), and for
  each team the report's overview and one theme page, signed in as its chief; and, for reading
  the others, the help page signed in (what any signed-in page costs: the session, the user, the
  navigation), which has no goal.

It prints each target's p50 and p95 in milliseconds and the ratio of its p50 to the baseline's,
beside the target: **at most 3 x the baseline** (issue 12). This is a measurement: the exit status
is 0 when the target is missed, 1 when a response is wrong (not 200, or not the chief's report),
2 when it could not run. Traffic goes only to 127.0.0.1, and the server is stopped and the
temporary data removed however the run ends.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import (
    DATA_MARKER,
    Postgres,
    add_database_arguments,
    collected_static,
    django_setup,
    each_database,
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
    tail,
    versions,
)
from submit_throughput import Client, app_env, collecting_env, send_baseline

TARGET_RATIO = 3.0
DEFAULT_POSTGRES_URL = "postgres://127.0.0.1:5432/gensidig_bench_report"
THEME = "direction"


class WrongResponse(Exception):
    """A page or the baseline answered something else than it should."""


# --- The helper, run inside Django in a subprocess with the app's settings ---------------------------


def helper_make_data() -> None:
    """One team per size with two closed rounds, and a signed-in session for each chief; print them as JSON."""
    spec = json.load(sys.stdin)
    django_setup()
    import datetime

    from django.conf import settings
    from django.test import Client as DjangoClient
    from django.utils import timezone

    from gensidig.models.choices import Role
    from gensidig.services.agreements import record_agreement
    from gensidig.services.organisation.teams import create_team, get_or_create_organisation
    from gensidig.services.survey.answering import submit_answers, ticket_for
    from gensidig.services.survey.closing import close_round
    from gensidig.services.survey.questions import Answers, questions_for
    from gensidig.services.survey.rounds import open_round
    from gensidig.services.survey.tokens import hash_token

    rng = random.Random(spec["seed"])
    organisation = get_or_create_organisation(slug="bench-report", name="Bench Kommune")
    teams = []
    for size in spec["sizes"]:
        team = create_team(
            organisation=organisation,
            name=f"Område Øst – {size} ledere",
            chief_email=f"chef-{size}@bench.example",
            leader_emails=[f"leder-{size}-{i}@bench.example" for i in range(size)],
        )
        for _number in (1, 2):
            round_, links = open_round(team=team, closes_at=timezone.now() + datetime.timedelta(days=14))
            for link in links:
                questions = questions_for(instrument=round_.instrument, role=link.role)
                ratings = {q: rng.choice((2, 3, 3, 4, 4, 5)) for q in questions}
                comments = {THEME: "Vi savner retning i forandringerne."} if link.role == Role.LEADER else {}
                submit_answers(ticket=ticket_for(token_hash=hash_token(link.token)), answers=Answers(ratings, comments))
            round_ = close_round(round_=round_)
            record_agreement(
                round_=round_, theme_key=THEME, text="Månedlige strategimøder i ledelsesteamet", owner="team"
            )
        client = DjangoClient()
        client.force_login(team.chief.user)
        teams.append(
            {
                "size": size,
                "team": team.name,
                "round": round_.public_id,
                "session": f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}",
            }
        )
    print(DATA_MARKER + json.dumps({"teams": teams}))


HELPERS = {"_make-data": helper_make_data}


# --- Measuring ----------------------------------------------------------------------------------------


@dataclass
class Target:
    label: str
    path: str
    cookie: str = ""
    expect: str = ""  # text the page must hold (the team's name): the chief's own report, not a sign-in page
    first_ms: float | None = None
    times: list[float] = field(default_factory=list)

    def p(self, percent: int) -> float:
        return percentile_ms(self.times, percent)


def get_page(client: Client, target: Target) -> None:
    response, content = client.request("GET", target.path, headers={"Cookie": target.cookie})
    if response.status != 200 or target.expect.encode() not in content:
        raise WrongResponse(f"{target.label}: {target.path} answered {response.status} without the team's report")


def timed(client: Client, target: Target) -> float:
    started = time.perf_counter()
    if target.cookie:
        get_page(client, target)
    elif problem := send_baseline(client, None):
        raise WrongResponse(problem)
    return time.perf_counter() - started


@dataclass
class DatabaseResult:
    title: str
    baseline: Target
    floor: Target
    pages: list[Target]


def bench_database(kind: str, args, static_root: Path, postgres: Postgres | None) -> DatabaseResult:
    with contextlib.ExitStack() as cleanup:
        title, data_dir = fresh_database(cleanup, prefix=f"gensidig-bench-report-{kind}", postgres=postgres)
        port = free_port()
        env = app_env(data_dir=data_dir, static_root=static_root, port=port, database_url=postgres and postgres.url)
        started = time.monotonic()
        run_command(gensidig_command("migrate", "--no-input", "-v", "0"), env=env, timeout=300)
        spec = json.dumps({"sizes": args.sizes, "seed": args.seed})
        data = run_command(helper_command(__file__, "_make-data"), env=env, stdin=spec, timeout=900)
        teams = helper_output(data)["teams"]
        print(f"   schema and {len(teams)} teams with two closed rounds each: {time.monotonic() - started:.1f} s")

        baseline = Target("baseline: one-row insert", "/bench/baseline/")
        # No goal: what any signed-in page costs (session, user, navigation), for reading the rest.
        floor = Target("help page, signed in", "/help/", cookie=teams[0]["session"], expect="</main>")
        pages = []
        for team in teams:
            common = {"cookie": team["session"], "expect": team["team"]}
            pages.append(Target(f"report, {team['size']} leaders", f"/rounds/{team['round']}/report/", **common))
            pages.append(
                Target(f"theme page, {team['size']} leaders", f"/rounds/{team['round']}/report/{THEME}/", **common)
            )
        log_path = data_dir / "server.log"
        client = Client(port, args.request_timeout)
        try:
            with production_server(env, port=port, workers=args.workers, log_path=log_path):
                client.start()
                # The first view of each page: rendered from the figures, and kept for the views after it.
                for page in pages:
                    page.first_ms = timed(client, page) * 1000
                # Every worker warms up (its templates, its connection) before anything is timed.
                for _ in range(args.warmup):
                    for target in (baseline, floor, *pages):
                        timed(client, target)
                for _ in range(args.requests):
                    for target in (baseline, floor, *pages):
                        target.times.append(timed(client, target))
        except BaseException:
            print(f"   server log (last lines):\n{tail(log_path)}", file=sys.stderr, flush=True)
            raise
        finally:
            client.close()
        return DatabaseResult(title, baseline, floor, pages)


def table(result: DatabaseResult, args) -> str:
    base = result.baseline.p(50)
    header = f"{'target':<28} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'x baseline':>11}  goal"
    lines = [
        f"{result.title} -- {args.workers} gunicorn sync workers, one client, {args.requests} requests per target",
        header,
        "-" * len(header),
        f"{result.baseline.label:<28} {'':>9} {base:8.1f} {result.baseline.p(95):8.1f} {1:11.2f}",
        f"{result.floor.label:<28} {'':>9} {result.floor.p(50):8.1f} {result.floor.p(95):8.1f} "
        f"{result.floor.p(50) / base if base else math.nan:11.2f}  (no goal: any signed-in page)",
    ]
    for page in result.pages:
        ratio = page.p(50) / base if base else math.nan
        verdict = f"<= {TARGET_RATIO:g} x: " + ("met" if ratio <= TARGET_RATIO else "NOT met")
        lines.append(
            f"{page.label:<28} {page.first_ms:9.1f} {page.p(50):8.1f} {page.p(95):8.1f} {ratio:11.2f}  {verdict}"
        )
    lines.append("first ms: the page's first view, rendered from the round's figures (not part of the p50).")
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="5,12,30", help="Leaders per team, comma-separated (default 5,12,30).")
    parser.add_argument("--requests", type=int, default=100, help="Timed requests per target (default 100).")
    parser.add_argument("--warmup", type=int, default=3, help="Untimed requests per target first (default 3).")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2).")
    add_database_arguments(parser, default_postgres_url=DEFAULT_POSTGRES_URL)
    parser.add_argument("--request-timeout", type=float, default=60, help="Seconds one request may take (default 60).")
    parser.add_argument("--max-seconds", type=int, default=900, help="Seconds the whole run may take (default 900).")
    parser.add_argument("--seed", type=int, default=1, help="Seed for the answers (default 1).")
    args = parser.parse_args(argv)
    parse_databases(parser, args)
    try:
        args.sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    except ValueError:
        parser.error("--sizes takes whole numbers, comma-separated")
    if not args.sizes or min(args.sizes) < 3 or max(args.sizes) > 200:
        parser.error("--sizes takes team sizes from 3 to 200 leaders")
    for name in ("requests", "workers", "max_seconds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv: list[str]) -> int:
    if (status := run_helper(argv, HELPERS)) is not None:
        return status
    args = parse_args(argv)
    limit_run_time(args.max_seconds)
    print(
        f"Gensidig report latency: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"{versions('Django', 'gunicorn', 'psycopg')}; goal: the report's p50 <= {TARGET_RATIO:g} x the "
        "one-row insert's",
        flush=True,
    )

    def run() -> int:
        failed = False
        with collected_static(collecting_env) as static_root:
            for kind, postgres in each_database(args):
                try:
                    result = bench_database(kind, args, static_root, postgres)
                except WrongResponse as exc:
                    print(f"\nA response was wrong: {exc}", file=sys.stderr)
                    failed = True
                    continue
                print(f"\n{table(result, args)}", flush=True)
        return 1 if failed else 0

    return finish(run, stopped="the server was stopped")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
