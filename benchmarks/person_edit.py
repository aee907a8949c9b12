#!/usr/bin/env python3
"""One change by HR in an organisation of 5,000 people: how long, next to a full import.

HR's changes to one person or one team (gensidig.services.organisation.people and team_admin) are
applied through the org-chart import: the organisation's current chart with the one change, checked
and applied by `apply_import`, which writes only what differs. This measures what that costs in an
organisation the size of a large Danish municipality, generated the way `org_scale.py` makes it.

For each database (SQLite in a new temporary data folder; PostgreSQL in a new database that is
dropped at the end) a helper process imports the chart (untimed), then runs each of these
`--repeats` times, interleaved, and reports the median and 90th percentile in milliseconds, the SQL
statements and writes of one run, and two ratios from the same run: to a one-row insert in one
transaction (the baseline `submit_throughput.py` uses) and to importing the whole chart file again.

* baseline: one row inserted in one transaction;
* re-import: `read_chart` + `apply_import` of the unchanged file (must write nothing);
* import with one move: the same file with one leader moved to another chief (what HR did before);
* change_manager: the same move by hand (and back, on the next repeat);
* edit_person: one person's title;
* deactivate + reactivate a chief: their reports move to the chief's own manager and back.

This is a measurement: the exit status is 0 whatever the times, 1 when a check fails (an edit that
did not do what it should, a re-import that writes), 2 when it could not run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import (
    DATA_MARKER,
    BenchmarkFailed,
    OverallTimeout,
    Postgres,
    Statements,
    add_database_arguments,
    django_setup,
    each_database,
    fresh_database,
    gensidig_command,
    helper_command,
    helper_output,
    limit_run_time,
    nearest_rank,
    parse_databases,
    run_command,
    run_helper,
)
from org_scale import app_env, make_chart

DEFAULT_POSTGRES_URL = "postgres://127.0.0.1:5432/gensidig_bench_edit"
SLUG = "fjordby"


# --- The helper: runs in a process with the app's settings for one database --------------------


def helper_run() -> None:
    spec = json.load(sys.stdin)
    django_setup()
    from django.db import connection, transaction

    from gensidig.models import Person, Team
    from gensidig.services.organisation.chart import apply_import, read_chart
    from gensidig.services.organisation.people import (
        PersonDetails,
        change_manager,
        deactivate_person,
        edit_person,
        reactivate_person,
    )

    data = Path(spec["csv"]).read_bytes()
    moved_data = Path(spec["moved_csv"]).read_bytes()
    organisation = apply_import(
        organisation_slug=SLUG, organisation_name="Fjordby Kommune", chart=read_chart(data=data, filename="o.csv")
    ).organisation
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS gensidig_benchmark_row (id INTEGER, payload VARCHAR(40))")

    mover = Person.objects.get(organisation=organisation, email__iexact=spec["mover"])
    home, away = spec["home_manager"], spec["away_manager"]
    chief = Person.objects.get(organisation=organisation, email__iexact=spec["chief"])
    chief_manager = chief.manager.email.lower()
    chief_reports = sorted(p.email.lower() for p in chief.reports.filter(active=True))
    failures: list[str] = []
    state = {"title": 0}

    def baseline():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO gensidig_benchmark_row (id, payload) VALUES (%s, %s)", [1, "x" * 40])

    def reimport():
        apply_import(organisation_slug=SLUG, chart=read_chart(data=data, filename="o.csv"))

    def import_moved():
        # The file with the one move, then the original again (untimed) so every repeat starts alike.
        apply_import(organisation_slug=SLUG, chart=read_chart(data=moved_data, filename="o.csv"))

    def after_import_moved():
        reimport()

    def move():
        mover.refresh_from_db()
        target = away if mover.manager.email.lower() == home else home
        change_manager(organisation=organisation, person=mover, manager_email=target)
        mover.refresh_from_db()
        if mover.manager.email.lower() != target:
            failures.append(f"change_manager: {mover.email} reports to {mover.manager.email}, not {target}")

    def edit():
        state["title"] += 1
        person = Person.objects.get(pk=mover.pk)
        details = PersonDetails.of(person, manager_email=person.manager.email.lower())
        title = f"Leder {state['title']}"
        edit_person(
            organisation=organisation,
            person=person,
            details=PersonDetails(**{**details.__dict__, "title": title}),
        )
        if Person.objects.get(pk=mover.pk).title != title:
            failures.append("edit_person: the title did not change")

    def leave():
        deactivate_person(organisation=organisation, person=chief, reports_to=chief_manager)
        if Team.objects.filter(chief=chief, active=True).exists():
            failures.append("deactivate_person: the chief's team is still active")

    def come_back():
        reactivate_person(organisation=organisation, person=chief, manager_email=chief_manager)
        apply_import(organisation_slug=SLUG, chart=read_chart(data=data, filename="o.csv"))  # the reports too

    steps = [
        ("baseline: one-row insert", baseline, None),
        ("re-import the unchanged file", reimport, None),
        ("import the file with one move", import_moved, after_import_moved),
        ("change_manager (one move)", move, None),
        ("edit_person (one title)", edit, None),
        (f"deactivate a chief, {len(chief_reports)} reports to their manager", leave, come_back),
    ]
    for _label, run, after in steps:  # untimed warm-up
        run()
        if after:
            after()
    times: dict[str, list[float]] = {label: [] for label, *_ in steps}
    counts: dict[str, tuple[int, int]] = {}
    for _repeat in range(spec["repeats"]):
        for label, run, after in steps:
            counter = Statements()
            with connection.execute_wrapper(counter):
                started = time.perf_counter()
                run()
                times[label].append(time.perf_counter() - started)
            counts[label] = (counter.total, counter.writes)
            if after:
                after()
    if counts["re-import the unchanged file"][1]:
        failures.append(f"the unchanged re-import wrote {counts['re-import the unchanged file'][1]} times")
    result = {
        "people": Person.objects.filter(organisation=organisation, active=True).count(),
        "teams": Team.objects.filter(organisation=organisation, active=True).count(),
        "steps": [
            {
                "label": label,
                "times": times[label],
                "statements": counts[label][0],
                "writes": counts[label][1],
            }
            for label, _run, _after in steps
        ],
        "failures": failures,
    }
    print(DATA_MARKER + json.dumps(result), flush=True)


HELPERS = {"_run": helper_run}


# --- The driver ---------------------------------------------------------------------------------


def pick_people(rows: list[tuple[str, ...]]) -> dict[str, str]:
    """A leader to move between two chiefs of the same level, and a chief with a manager to leave."""
    manager_of = {row[2].lower(): row[3].lower() for row in rows}
    reports: dict[str, list[str]] = {}
    for email, manager in manager_of.items():
        reports.setdefault(manager, []).append(email)
    leaves = [email for email in manager_of if email not in reports and manager_of[email]]
    mover = leaves[len(leaves) // 2]
    home = manager_of[mover]
    # Another chief at the same depth, in another branch: the move re-forms two teams.
    siblings = [m for m in reports if m not in {home, ""} and manager_of.get(m) and manager_of[m] != home]
    away = next(m for m in siblings if len(reports[m]) > 3 and all(r not in reports for r in reports[m]))
    chief = next(m for m in siblings if m != away and all(r not in reports for r in reports[m]))
    return {"mover": mover, "home_manager": home, "away_manager": away, "chief": chief}


def bench_database(kind: str, args, files: dict[str, Path], picks: dict[str, str], postgres: Postgres | None) -> dict:
    with contextlib.ExitStack() as cleanup:
        _title, data_dir = fresh_database(cleanup, prefix=f"gensidig-bench-edit-{kind}", postgres=postgres)
        env = app_env(data_dir=data_dir, smtp_port=25, database_url=postgres.url if postgres else None)
        run_command(gensidig_command("migrate", "--no-input", "-v", "0"), env=env, timeout=300)
        spec = {"csv": str(files["csv"]), "moved_csv": str(files["moved"]), "repeats": args.repeats, **picks}
        output = run_command(
            helper_command(__file__, "_run"), env=env, timeout=args.max_seconds, stdin=json.dumps(spec)
        )
        return helper_output(output)


def table(result: dict) -> str:
    steps = result["steps"]
    baseline = statistics.median(steps[0]["times"])
    reimport = statistics.median(steps[1]["times"])
    lines = [
        f"{result['people']:,} active people, {result['teams']:,} teams; times of {len(steps[0]['times'])} repeats",
        f"{'step':<62} {'median ms':>10} {'p90 ms':>8} {'× baseline':>11} {'× re-import':>12} {'SQL':>6} {'writes':>7}",
    ]
    for step in steps:
        median = statistics.median(step["times"])
        p90 = nearest_rank(step["times"], 0.9)
        lines.append(
            f"{step['label']:<62} {median * 1000:>10.1f} {p90 * 1000:>8.1f} {median / baseline:>11.0f} "
            f"{median / reimport:>12.2f} {step['statements']:>6} {step['writes']:>7}"
        )
    return "\n".join(lines)


def write_files(args, directory: Path) -> tuple[dict[str, Path], dict[str, str]]:
    chart = make_chart(args.people, args.seed)
    picks = pick_people(chart.rows)
    moved_rows = [
        (*row[:3], picks["away_manager"], *row[4:]) if row[2].lower() == picks["mover"] else row for row in chart.rows
    ]
    files = {"csv": directory / "fjordby.csv", "moved": directory / "fjordby-moved.csv"}
    files["csv"].write_bytes(chart.to_bytes("utf-8-sig"))
    moved = type(chart)(rows=moved_rows, people=chart.people, teams=chart.teams, levels=chart.levels)
    files["moved"].write_bytes(moved.to_bytes("utf-8-sig"))
    return files, picks


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=5000, help="People in the chart (default %(default)s).")
    parser.add_argument("--repeats", type=int, default=9, help="Timed runs of each step (default %(default)s).")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-seconds", type=int, default=900, help="The most the whole run may take.")
    add_database_arguments(parser, default_postgres_url=DEFAULT_POSTGRES_URL)
    args = parser.parse_args(argv)
    parse_databases(parser, args)
    if args.people < 100 or args.repeats < 1:
        parser.error("--people must be at least 100 and --repeats at least 1")
    return args


def main(argv: list[str]) -> int:
    if (status := run_helper(argv, HELPERS)) is not None:
        return status
    args = parse_args(argv)
    limit_run_time(args.max_seconds)
    failed = False
    with tempfile.TemporaryDirectory(prefix="gensidig-bench-edit-") as directory:
        try:
            files, picks = write_files(args, Path(directory))
            print(
                f"Moving {picks['mover']} between {picks['home_manager']} and {picks['away_manager']}; "
                f"{picks['chief']} leaves and returns."
            )
            for kind, postgres in each_database(args):
                result = bench_database(kind, args, files, picks, postgres)
                print(table(result), flush=True)
                for failure in result["failures"]:
                    print(f"CHECK FAILED: {failure}", flush=True)
                failed |= bool(result["failures"])
        except (BenchmarkFailed, OverallTimeout) as error:
            print(f"\nCould not run: {error}", file=sys.stderr)
            return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
