#!/usr/bin/env python3
"""Pages whose cost must not grow with the organisation: the same pages at 500 and at 20,000 people.

One database (PostgreSQL by default, created and dropped; SQLite with `--databases sqlite`) holds
two organisations built from `org_scale.py`'s chart generator: a small one (`--people-small`, 500)
and a large one (`--people-large`, 20,000). Each is imported, gets a campaign that is launched,
answered by a share of its leaders and chiefs at service level and closed, and a second campaign
that is left open. A helper process then asks for each page through Django's test client,
in-process and signed in with `force_login`, for both organisations in turn: a warm-up, then
`--repeats` rounds where the sizes and pages alternate, so that whatever else the machine does
falls on both sizes alike.

The pages: HR's campaign page (closed, and open with its live participation), HR's heatmap of the
whole organisation, a chief of chiefs' roll-up of their branch, the teams page, the people page and
a people search. For each it prints the median at both sizes, their ratio beside the target (at
most 1.5), and the SQL statements one request ran at each size (they must be the same).

`--profile DIR` also writes a pyinstrument profile of one request to every page at the large size.
This is a measurement: the exit status is 0 whatever the times, 1 when a page did not answer 200,
2 when it could not run. Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.util
import json
import os
import random
import signal
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

import org_scale
from common import (
    DATA_MARKER,
    BenchmarkFailed,
    OverallTimeout,
    Postgres,
    Statements,
    add_database_arguments,
    app_env,
    django_setup,
    each_database,
    fresh_database,
    gensidig_command,
    limit_run_time,
    parse_databases,
    run_command,
    run_helper,
    stream_helper,
    versions,
)

DEFAULT_POSTGRES_URL = "postgres://127.0.0.1:5432/gensidig_bench_pages"
TARGET_RATIO = 1.5
# (key, label): the pages, in the order they are printed.
PAGES = (
    ("campaign_closed", "HR: campaign page, closed campaign"),
    ("campaign_open", "HR: campaign page, open campaign (live participation)"),
    ("heatmap_top", "HR: heatmap, whole organisation"),
    ("heatmap_branch", "chief of chiefs: roll-up of their branch"),
    ("teams", "HR: teams page"),
    ("people", "HR: people page"),
    ("people_next", "HR: people page, the next page"),
    ("search", "HR: people search (many hits)"),
    ("search_one", "HR: people search (one person)"),
)


# --- Inside Django, in a helper process ------------------------------------------------------------


def build_organisation(*, people: int, spec: dict) -> dict:
    """An organisation of `people` from org_scale's chart: imported, one campaign closed, one open.

    Returns the URLs of its pages and who may open them.
    """
    from django.utils import timezone

    from gensidig.models import Campaign, Person, Team, User
    from gensidig.services.access import add_admin
    from gensidig.services.campaigns import create_campaign, launch_campaign
    from gensidig.services.organisation.chart import apply_import, read_chart

    slug = f"pages-{people}"
    # Each organisation its own addresses: users are shared across organisations by e-mail.
    org_scale.DOMAIN = f"pages{people}.example"
    chart = org_scale.make_chart(people, spec["seed"])
    record = org_scale.Recorder()
    with record.step(f"{people:,}: import the chart", count=people, unit="people"):
        result = apply_import(
            organisation_slug=slug,
            organisation_name=f"Fjordby {people}",
            chart=read_chart(data=chart.to_bytes("utf-8-sig"), filename="organisation.csv"),
        )
    organisation = result.organisation
    _organisation, hr = add_admin(email=f"hr@{org_scale.DOMAIN}", organisation_slug=slug)
    now = timezone.now()

    def campaign(name: str) -> Campaign:
        made = create_campaign(
            organisation=organisation,
            name=name,
            root_team=None,
            opens_on=timezone.localdate(now),
            closes_at=now + datetime.timedelta(days=14),
        )
        with record.step(f"{people:,}: launch {name}", count=chart.teams, unit="rounds"):
            launch_campaign(campaign=made)
        return made

    closed = campaign("Ledelsesevaluering 2026")
    rng = random.Random(spec["seed"])
    answer_spec = {"seed": spec["seed"], "answer_share": spec["answer_share"], "answer_seconds": spec["answer_seconds"]}
    answered = org_scale.answer_share(closed, rng, answer_spec, record, label=f"{people:,}: ")
    org_scale.close_timed(
        closed, record, answered=answered, rounds=chart.teams, label=f"{people:,}: close", key=f"close_{people}"
    )
    opened = campaign("Ledelsesevaluering 2027")
    if not record.checks or not all(ok for _what, ok in record.checks):
        raise BenchmarkFailed(f"building the organisation of {people:,} failed: {record.checks}")

    # The chief of chiefs: the head of the area with the most teams below them.
    top = Team.objects.get(organisation=organisation, parent__isnull=True)
    heads = list(Team.objects.filter(organisation=organisation, parent=top).select_related("chief"))
    below = {team.pk: 0 for team in heads}
    parent = dict(Team.objects.filter(organisation=organisation).values_list("pk", "parent_id"))
    for team_id in parent:
        current = parent[team_id]
        while current is not None and current not in below:
            current = parent.get(current)
        if current is not None:
            below[current] += 1
    head_team = max(heads, key=lambda team: (below[team.pk], -team.pk))
    chief_user = User.objects.create_user(email=head_team.chief.email.lower(), password=None)
    Person.objects.filter(pk=head_team.chief_id).update(user=chief_user)

    people_url = f"/org/{slug}/people/"
    # The next page as the people page links to it (a page number, or where the page left off).
    html = spec["client"]("hr", hr).get(people_url).content.decode()
    pages_nav = html[html.index('class="gs-pages"') :]
    link = pages_nav[pages_nav.index('href="') + 6 :]
    next_url = people_url + link[: link.index('"')].replace("&amp;", "&")
    return {
        "people": people,
        "teams": chart.teams,
        "answered": answered,
        "users": {"hr": hr.pk, "chief": chief_user.pk},
        "urls": {
            "campaign_closed": ("hr", f"/org/{slug}/campaigns/{closed.public_id}/"),
            "campaign_open": ("hr", f"/org/{slug}/campaigns/{opened.public_id}/"),
            "heatmap_top": ("hr", f"/campaigns/{closed.public_id}/rollup/{top.public_id}/"),
            "heatmap_branch": ("chief", f"/campaigns/{closed.public_id}/rollup/{head_team.public_id}/"),
            "teams": ("hr", f"/org/{slug}/teams/"),
            "people": ("hr", people_url),
            "people_next": ("hr", next_url),
            "search": ("hr", people_url + "?q=sen"),
            # The chief of chiefs' address before the @: one person, or very few.
            "search_one": ("hr", people_url + "?q=" + quote(head_team.chief.email.split("@")[0])),
        },
    }


def helper_run() -> None:
    """Build both organisations, then time every page at both sizes; prints the results as JSON."""
    spec = json.load(sys.stdin)
    django_setup()
    from django.db import connection
    from django.test import Client

    from gensidig.models import User
    from gensidig.services.survey.instruments import current_instrument

    clients: dict[tuple[str, int], Client] = {}

    def client_for(role: str, user) -> Client:
        key = (role, user.pk)
        if key not in clients:
            clients[key] = Client(HTTP_HOST="127.0.0.1")
            clients[key].force_login(user)
        return clients[key]

    spec["client"] = client_for
    connection.ensure_connection()
    current_instrument()
    sizes = [build_organisation(people=people, spec=spec) for people in spec["sizes"]]
    users = {pk: User.objects.get(pk=pk) for size in sizes for pk in size["users"].values()}
    # What autovacuum does within a minute or so of a big import: without the planner's statistics
    # PostgreSQL takes a 20,000-row table for a few rows and sorts it rather than read an index, and
    # until the search indexes' pending entries are merged it reads every row instead of them.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")

    def fetch(size: dict, page: str) -> tuple[float, int]:
        role, url = size["urls"][page]
        client = client_for(role, users[size["users"][role]])
        counter = Statements()
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            response = client.get(url)
            seconds = time.perf_counter() - started
        if response.status_code != 200:
            raise BenchmarkFailed(f"{url} answered {response.status_code}")
        return seconds, counter.total

    pages = [key for key, _label in PAGES]
    times: dict[str, dict[int, list[float]]] = {p: {s["people"]: [] for s in sizes} for p in pages}
    queries: dict[str, dict[int, list[int]]] = {p: {s["people"]: [] for s in sizes} for p in pages}
    for _ in range(spec["warmup"]):
        for page in pages:
            for size in sizes:
                fetch(size, page)
    give_up_at = time.monotonic() + spec["timing_seconds"]
    repeats = 0
    for repeat in range(spec["repeats"]):
        if time.monotonic() > give_up_at:
            break
        order = sizes if repeat % 2 == 0 else list(reversed(sizes))
        for page in pages:
            for size in order:
                seconds, count = fetch(size, page)
                times[page][size["people"]].append(seconds)
                queries[page][size["people"]].append(count)
        repeats += 1

    if spec.get("profile_dir"):
        from pyinstrument import Profiler

        folder = Path(spec["profile_dir"])
        folder.mkdir(parents=True, exist_ok=True)
        large = sizes[-1]
        for page in pages:
            profiler = Profiler(interval=0.0005)
            with profiler:
                fetch(large, page)
            (folder / f"{page}-{large['people']}.txt").write_text(profiler.output_text(unicode=True, show_all=False))

    result = {
        "sizes": [{k: s[k] for k in ("people", "teams", "answered")} for s in sizes],
        "repeats": repeats,
        "times": times,
        "queries": queries,
    }
    print(DATA_MARKER + json.dumps(result), flush=True)


HELPERS = {"_run": helper_run}


# --- One database, from the outside ---------------------------------------------------------------


def bench_database(kind: str, args, postgres: Postgres | None) -> dict:
    with contextlib.ExitStack() as cleanup:
        title, data_dir = fresh_database(cleanup, prefix=f"gensidig-bench-pages-{kind}", postgres=postgres)
        env = app_env(
            data_dir=data_dir,
            static_root=data_dir / "static",
            site_url="http://127.0.0.1:8000",
            database_url=postgres.url if postgres else None,
            # Nothing is sent: the invitations stay queued.
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            # Building 20,000 people's close runs longer than a web request may.
            GENSIDIG_DB_STATEMENT_TIMEOUT="0",
        )
        run_command(gensidig_command("migrate", "--no-input", "-v", "0"), env=env, timeout=300)
        # The production static storage needs its manifest for the pages' stylesheet links.
        run_command(gensidig_command("collectstatic", "--no-input", "-v", "0"), env=env, timeout=300)
        spec = {
            "sizes": [args.people_small, args.people_large],
            "seed": args.seed,
            "answer_share": args.answer_share,
            "answer_seconds": args.answer_seconds,
            "warmup": args.warmup,
            "repeats": args.repeats,
            "timing_seconds": args.timing_seconds,
            "profile_dir": str(args.profile) if args.profile else "",
        }

        def progress(line: str) -> None:
            if line.startswith(org_scale.STEP_MARKER):
                step = json.loads(line[len(org_scale.STEP_MARKER) :])
                print(f"   {step['label']}: {step['seconds']:.2f} s", flush=True)

        result = stream_helper(__file__, "_run", spec, env=env, cleanup=cleanup, on_line=progress)
        result["title"] = title
        return result


def table(result: dict) -> str:
    small, large = (str(s["people"]) for s in result["sizes"])
    described = ", ".join(
        f"{s['people']:,} people ({s['teams']:,} teams, {s['answered']:,} answers)" for s in result["sizes"]
    )
    header = (
        f"{'page':<56} {'p50 ' + small:>10} {'p50 ' + large:>11} {'ratio':>6} {'target':>7} {'met':>4} "
        f"{'SQL ' + small:>9} {'SQL ' + large:>10}"
    )
    lines = [f"{result['title']} -- {described}; median of {result['repeats']} requests", header, "-" * len(header)]
    for key, label in PAGES:
        t_small = statistics.median(result["times"][key][small]) * 1000
        t_large = statistics.median(result["times"][key][large]) * 1000
        ratio = t_large / t_small if t_small else float("inf")
        q_small = max(result["queries"][key][small])
        q_large = max(result["queries"][key][large])
        met = "yes" if ratio <= TARGET_RATIO and q_small == q_large else "NO"
        lines.append(
            f"{label:<56} {t_small:>8.1f}ms {t_large:>9.1f}ms {ratio:>6.2f} {'<= 1.5':>7} {met:>4} "
            f"{q_small:>9} {q_large:>10}"
        )
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people-small", type=int, default=500, help="The small organisation (default 500).")
    parser.add_argument("--people-large", type=int, default=20000, help="The large organisation (default 20000).")
    add_database_arguments(parser, default_postgres_url=DEFAULT_POSTGRES_URL)
    parser.set_defaults(databases="postgres")
    parser.add_argument("--repeats", type=int, default=15, help="Timed requests per page and size (default 15).")
    parser.add_argument("--warmup", type=int, default=2, help="Untimed requests per page and size first (default 2).")
    parser.add_argument(
        "--timing-seconds", type=float, default=300, help="The most the timed requests may take (default 300)."
    )
    org_scale.add_answer_arguments(
        parser, seconds=600, seconds_help="The most answering may take per organisation (default 600)."
    )
    parser.add_argument(
        "--profile", type=Path, help="Write a pyinstrument profile of each page at the large size here."
    )
    parser.add_argument("--max-seconds", type=int, default=2400, help="Seconds the whole run may take (default 2400).")
    parser.add_argument("--seed", type=int, default=1, help="Seed for the charts and the answers (default 1).")
    args = parser.parse_args(argv)
    parse_databases(parser, args)
    if not 100 <= args.people_small < args.people_large:
        parser.error("--people-small must be at least 100 and below --people-large")
    if args.repeats < 1 or args.warmup < 0 or args.max_seconds < 1:
        parser.error("--repeats and --max-seconds must be at least 1, --warmup not negative")
    if args.profile:
        args.profile = args.profile.resolve()
    return args


def main(argv: list[str]) -> int:
    if (status := run_helper(argv, HELPERS)) is not None:
        return status
    args = parse_args(argv)
    if importlib.util.find_spec("gensidig") is None:
        print("gensidig must be importable: run with the project's virtualenv.", file=sys.stderr)
        return 2
    if args.profile and importlib.util.find_spec("pyinstrument") is None:
        print("--profile needs pyinstrument (the test extras).", file=sys.stderr)
        return 2
    limit_run_time(args.max_seconds)
    load = os.getloadavg()
    print(
        f"Pages at scale: {os.cpu_count()} CPUs, load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, "
        f"Python {sys.version.split()[0]}, {versions('Django', 'psycopg')}; "
        f"{args.people_small:,} and {args.people_large:,} people",
        flush=True,
    )
    results = []
    try:
        for kind, postgres in each_database(args):
            results.append(bench_database(kind, args, postgres))
            print(f"\n{table(results[-1])}", flush=True)
    except BenchmarkFailed as exc:
        print(f"\nThe benchmark failed: {exc}", file=sys.stderr)
        return 1
    except OverallTimeout as exc:
        print(f"\nThe benchmark could not finish: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nInterrupted; the helper was stopped and the temporary data removed.", file=sys.stderr)
        return 130
    finally:
        signal.alarm(0)
    load = os.getloadavg()
    print(f"load at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
