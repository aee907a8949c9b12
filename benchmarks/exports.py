#!/usr/bin/env python3
"""What a closed round's downloads cost, against rendering its HTML report page in the same process.

The script migrates a fresh SQLite database in a temporary data folder, opens two rounds for a team
of 12 leaders (a name with æ, ø and å), lets 10 leaders and the chief answer each with varied values
and comments, and closes them, so the second round's report has a trend column. Signed in as the
chief through Django's test client (the whole view: middleware, access, the stored figures,
templates), it times:

* the first download of each PDF (and the first view of the HTML report page): made from the
  round's figures (WeasyPrint, tagged PDF/UA-1) and kept (services/results/rendered.py);
* then, interleaved `--repeats` times so that a change in the machine's load hits every target
  alike: the HTML report page, the report and the meeting guide as PDF -- each once as a later
  reader gets it (the kept copy) and once made afresh (its kept copy deleted first, untimed) --
  and the figures as XLSX (openpyxl) and as CSV.

Before the first downloads, one untimed request to each warms the caches and imports WeasyPrint,
which is reported on its own line. It prints the first download, the median and the 90th
percentile in milliseconds, the ratio of the medians to the kept HTML page, each download's size,
and the goal of issue 12 beside the PDFs: a second download under 50 ms. This is a measurement:
the exit status is 0 whatever the times, 1 when a response is wrong (not 200, the wrong type, a
comment in an export's text, a kept PDF that differs from the one made afresh), 2 when it could
not run. Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import APP_ENV_VARS, HOST, BenchmarkFailed, django_setup, nearest_rank, versions

ANSWERING = 10
COMMENT = "Bench-kommentar, som aldrig må stå i en eksport"
TEAM_NAME = "Område Øst – Ældrepleje"


SECOND_DOWNLOAD_GOAL_MS = 50


@dataclass
class Target:
    label: str
    url_name: str
    content_type: str
    kept: str = ""  # the start of the kept render's name (services/results/rendered.py), if it is kept
    afresh: bool = False  # its kept copy is deleted before each timed request: the cost of making it
    goal_ms: float | None = None
    times: list[float] = field(default_factory=list)
    first: float | None = None
    size: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def p90(self) -> float:
        return nearest_rank(self.times, 0.9)


def targets() -> list[Target]:
    html, pdf = "text/html; charset=utf-8", "application/pdf"
    goal = SECOND_DOWNLOAD_GOAL_MS
    return [
        Target("HTML report page (baseline)", "gensidig:report", html, kept="page:chief:overview:"),
        Target("HTML report page, afresh", "gensidig:report", html, kept="page:chief:overview:", afresh=True),
        Target("report PDF, kept", "gensidig:report-pdf", pdf, kept="pdf:chief:report:", goal_ms=goal),
        Target("report PDF, made afresh", "gensidig:report-pdf", pdf, kept="pdf:chief:report:", afresh=True),
        Target("guide PDF, kept", "gensidig:guide-pdf", pdf, kept="pdf:guide:guide:", goal_ms=goal),
        Target("guide PDF, made afresh", "gensidig:guide-pdf", pdf, kept="pdf:guide:guide:", afresh=True),
        Target(
            "figures XLSX", "gensidig:figures-xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        ),
        Target("figures CSV", "gensidig:figures-csv", "text/csv; charset=utf-8"),
    ]


def prepare(seed: int, leaders: int, answering: int):
    """A team with two closed rounds; returns the chief's user and the second round."""
    from django.core.management import call_command
    from django.utils import timezone

    from gensidig.models.choices import Role
    from gensidig.services.organisation.teams import create_team, get_or_create_organisation
    from gensidig.services.survey.answering import submit_answers, ticket_for
    from gensidig.services.survey.closing import close_round
    from gensidig.services.survey.questions import Answers, questions_for
    from gensidig.services.survey.rounds import open_round
    from gensidig.services.survey.tokens import hash_token

    call_command("migrate", verbosity=0)
    rng = random.Random(seed)
    organisation = get_or_create_organisation(slug="bench", name="Bench Kommune")
    team = create_team(
        organisation=organisation,
        name=TEAM_NAME,
        chief_email="chef@bench.example",
        leader_emails=[f"leder{i}@bench.example" for i in range(leaders)],
    )
    for number in (1, 2):
        round_, links = open_round(team=team, closes_at=timezone.now() + datetime.timedelta(days=14), threshold=None)
        answering_links = [link for link in links if link.role == Role.LEADER][:answering]
        answering_links += [link for link in links if link.role == Role.CHIEF]
        for link in answering_links:
            questions = questions_for(instrument=round_.instrument, role=link.role)
            # The second round a little better, so that the trend columns have changes to show.
            better = number == 2
            ratings = {q: min(5, rng.choice((2, 3, 3, 4, 4, 5)) + (better and rng.random() < 0.3)) for q in questions}
            comments = {"direction": COMMENT} if link.role == Role.LEADER else {}
            submit_answers(ticket=ticket_for(token_hash=hash_token(link.token)), answers=Answers(ratings, comments))
        round_ = close_round(round_=round_)
    return team.chief.user, round_


def check(target: Target, response, *, read: bool = False) -> None:
    """The response is the right kind; with `read`, its text is read and must hold no comment."""
    if response.status_code != 200 or response["Content-Type"] != target.content_type:
        raise BenchmarkFailed(f"{target.label}: {response.status_code} {response['Content-Type']}")
    if read and target.url_name != "gensidig:report" and COMMENT in text_of(response):
        raise BenchmarkFailed(f"{target.label}: a comment is in the export")


def text_of(response) -> str:
    """What a reader of the download sees: a PDF's text, a workbook's cells, the CSV itself."""
    import io

    if response["Content-Type"] == "application/pdf":
        from pypdf import PdfReader

        return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    if response["Content-Type"].startswith("application/vnd.openxmlformats"):
        import openpyxl

        workbook = openpyxl.load_workbook(io.BytesIO(response.content))
        return " ".join(str(cell) for sheet in workbook for row in sheet.iter_rows(values_only=True) for cell in row)
    return response.content.decode("utf-8")


def run(args) -> int:
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse

    from gensidig.models import Rendered

    # Static files from the package, as in the tests: no manifest to build for a page rendered in-process.
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        user, round_ = prepare(args.seed, leaders=12, answering=ANSWERING)
        client = Client(HTTP_HOST=HOST)
        client.force_login(user)
        measured = targets()
        urls = {t.url_name: reverse(t.url_name, args=[round_.public_id]) for t in measured}

        def forget(target: Target) -> None:
            Rendered.objects.filter(round=round_, name__startswith=target.kept).delete()

        first_pdf = None
        for target in measured:  # untimed warm-up; the first PDF imports WeasyPrint
            started = time.perf_counter()
            response = client.get(urls[target.url_name])
            if first_pdf is None and target.content_type == "application/pdf":
                first_pdf = time.perf_counter() - started
            check(target, response, read=True)
            target.size = len(response.content)
        kept = {}
        for target in measured:  # the first download: made from the figures, and kept
            if target.kept and not target.afresh:
                forget(target)
                started = time.perf_counter()
                response = client.get(urls[target.url_name])
                target.first = time.perf_counter() - started
                check(target, response)
                kept[target.url_name] = response.content
        for _repeat in range(args.repeats):
            for target in measured:
                if target.afresh:
                    forget(target)
                started = time.perf_counter()
                response = client.get(urls[target.url_name])
                target.times.append(time.perf_counter() - started)
                check(target, response)
                if _repeat == 0 and target.afresh and target.content_type == "application/pdf":
                    same_as_kept(target, response, kept[target.url_name])
    print(table(measured, first_pdf, args.repeats))
    return 0


def same_as_kept(target: Target, response, kept: bytes) -> None:
    """A PDF made afresh says what the kept one says (WeasyPrint stamps each file with its own id)."""
    if kept != response.content and text_of(response) != text_of(type(response)(kept, content_type="application/pdf")):
        raise BenchmarkFailed(f"{target.label}: the kept PDF and the one made afresh differ")


def table(measured: list[Target], first_pdf: float, repeats: int) -> str:
    baseline = measured[0].median
    lines = [
        f"{'':28} {'first ms':>9} {'median ms':>10} {'p90 ms':>8} {'ratio':>7} {'size':>9}  goal",
    ]
    for t in measured:
        first = f"{t.first * 1000:9.1f}" if t.first is not None else f"{'':9}"
        goal = ""
        if t.goal_ms is not None:
            verdict = "met" if t.median * 1000 < t.goal_ms else "NOT met"
            goal = f"second download < {t.goal_ms:g} ms: {verdict}"
        lines.append(
            f"{t.label:28} {first} {t.median * 1000:10.1f} {t.p90 * 1000:8.1f} {t.median / baseline:7.1f} "
            f"{t.size / 1024:7.1f} KB  {goal}".rstrip()
        )
    lines += [
        "",
        f"{repeats} timed requests each, interleaved; ratio = median / the HTML report page's median.",
        "first ms: the first download (or view), made from the round's figures and kept for the ones after it;",
        "afresh: its kept copy deleted before each request, as if nothing were kept.",
        f"First PDF of the process (WeasyPrint imported on first use): {first_pdf * 1000:.0f} ms.",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10, help="Timed requests per target (default 10).")
    parser.add_argument("--seed", type=int, default=1, help="Seed for the answers (default 1).")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.repeats < 1:
        print("--repeats must be at least 1", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="gensidig-bench-exports-") as data_dir:
        for name in APP_ENV_VARS:
            os.environ.pop(name, None)
        os.environ.update({"GENSIDIG_DATA_DIR": data_dir, "ALLOWED_HOSTS": HOST, "DEBUG": "false"})
        Path(data_dir, "static").mkdir()  # WhiteNoise looks for it when the first request comes in
        try:
            django_setup()
        except Exception as exc:
            print(f"Django could not start: {exc}", file=sys.stderr)
            return 2
        print(
            f"Exports of a closed round: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
            f"{versions('Django', 'weasyprint', 'openpyxl')}; SQLite in {data_dir}",
            flush=True,
        )
        try:
            return run(args)
        except BenchmarkFailed as exc:
            print(f"\nA check failed: {exc}", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
