#!/usr/bin/env python3
"""What a browser downloads for the answer form and the report page, byte for byte (``make bench``).

The script collects the static files with the production storage (hashed names, gzip and brotli
variants), migrates a fresh SQLite database in a temporary data folder, and makes, through
``gensidig.services``, a team with an open round (one leader's answer link) and a team with a
closed round (answered by six leaders and the chief, whose report the chief then reads). It
starts the production server, ``gensidig serve`` (gunicorn, WhiteNoise), on a free port on
127.0.0.1, and drives headless Chromium (Debian's package, through Playwright) with a fresh,
empty cache:

* first visit: the leader opens the answer link, as from a mail program: the redirect, the
  page before the first question, and everything that page loads (styles, script, icon, fonts);
* repeat visit: the same browser opens the link again;
* the report page: the chief signs in and opens the round's report.

For every response it records the bytes that crossed the network -- headers and body as sent,
compressed when it was -- from Chromium's own account (the DevTools protocol's
``encodedDataLength``), and the size of the body once decoded. It prints each target with its
goal, the measured figure and a baseline from the same run: for the visits, the same responses
as they would be without any compression; for the repeat visit, the first visit; for the report,
the same page uncompressed. Then the first visit request by request, and every request that went
to another host (there must be none).

This is a measurement: the exit status is 0 when a goal is missed, 1 when a response is wrong (an
error status, a request to another host) and 2 when it could not run. ``--json PATH`` also writes
the figures as JSON. Traffic goes only to 127.0.0.1; the run is bounded by ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common import (
    COMMENT_PHRASES,
    DATA_MARKER,
    HOST,
    app_env,
    django_setup,
    finish,
    free_port,
    gensidig_command,
    helper_command,
    helper_output,
    limit_run_time,
    production_server,
    run_command,
    run_helper,
    versions,
)

KB = 1024
FIRST_VISIT_GOAL = 100 * KB
REPEAT_VISIT_GOAL = 10 * KB
CHIEF_PASSWORD = secrets.token_urlsafe(16)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN_PATH = re.compile(r"/a/[^/]+/")
SETUP = ("collectstatic", "migrate")


# --- A helper run inside Django, in a subprocess with the app's settings ------------------------


def helper_make_data() -> None:
    """An open round with a leader's link, and a closed, answered round; print what the browser needs."""
    spec = json.load(sys.stdin)
    django_setup()
    import datetime
    import random

    from django.urls import reverse
    from django.utils import timezone

    from gensidig.models.choices import Role
    from gensidig.services.organisation.teams import create_team, get_or_create_organisation
    from gensidig.services.survey.answering import submit_answers, ticket_for
    from gensidig.services.survey.closing import close_round
    from gensidig.services.survey.questions import Answers, questions_for
    from gensidig.services.survey.rounds import open_round
    from gensidig.services.survey.tokens import hash_token

    rng = random.Random(1)
    closes_at = timezone.now() + datetime.timedelta(days=14)
    organisation = get_or_create_organisation(slug="vaegt", name="Vægtby Kommune")
    answering = create_team(
        organisation=organisation,
        name="Område Øst – Ældrepleje",
        chief_email="chef.oest@vaegtby.example",
        leader_emails=[f"leder{i}.oest@vaegtby.example" for i in range(8)],
    )
    _round, links = open_round(team=answering, closes_at=closes_at)
    leader_token = next(link.token for link in links if link.role == Role.LEADER)

    reporting = create_team(
        organisation=organisation,
        name="Område Syd – Børn og Unge",
        chief_email="chef.syd@vaegtby.example",
        leader_emails=[f"leder{i}.syd@vaegtby.example" for i in range(8)],
    )
    round_, links = open_round(team=reporting, closes_at=closes_at)
    for link in [link for link in links if link.role == Role.LEADER][:6] + [
        link for link in links if link.role == Role.CHIEF
    ]:
        questions = questions_for(instrument=round_.instrument, role=link.role)
        ratings = {q: rng.choice((2, 3, 3, 4, 4, 5)) for q in questions}
        comments = {"direction": rng.choice(COMMENT_PHRASES)} if link.role == Role.LEADER else {}
        submit_answers(ticket=ticket_for(token_hash=hash_token(link.token)), answers=Answers(ratings, comments))
    round_ = close_round(round_=round_)
    chief = reporting.chief.user
    chief.set_password(spec["password"])
    chief.save(update_fields=["password"])
    result = {
        "answer_link": reverse("gensidig:token-intake", args=[leader_token]),
        "report": reverse("gensidig:report", args=[round_.public_id]),
        "chief_email": chief.email,
    }
    print(DATA_MARKER + json.dumps(result))


HELPERS = {"_make-data": helper_make_data}


# --- What Chromium says crossed the network ----------------------------------------------------------


@dataclass
class Transfer:
    """One response as Chromium received it."""

    url: str
    method: str = "GET"
    status: int = 0
    mime: str = ""
    encoding: str = ""  # Content-Encoding as sent
    from_cache: bool = False
    wire: int = 0  # bytes over the network: headers and body as sent
    headers: int = 0  # of which the headers
    body: int = 0  # the body, decoded
    done: bool = False
    failed: str = ""

    @property
    def uncompressed(self) -> int:
        """What the response would have moved without any compression (and without the cache)."""
        return self.headers + self.body

    @property
    def path(self) -> str:
        path = "/" + self.url.split("/", 3)[3] if self.url.count("/") >= 3 else self.url
        return TOKEN_PATH.sub("/a/<token>/", path)


class Recorder:
    """Every response of one page, from the DevTools protocol's network events."""

    def __init__(self, page):
        self.transfers: dict[str, Transfer] = {}
        self._redirects = 0
        cdp = page.context.new_cdp_session(page)
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.requestServedFromCache", self._from_cache)
        cdp.on("Network.responseReceived", self._received)
        cdp.on("Network.dataReceived", self._data)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.loadingFailed", self._failed)
        cdp.send("Network.enable")

    def start(self) -> None:
        self.transfers = {}

    def _sent(self, event: dict) -> None:
        if event["request"]["url"].startswith(("data:", "blob:")):
            return  # made in the page, never sent
        key = event["requestId"]
        redirect = event.get("redirectResponse")
        if redirect and key in self.transfers:
            # The redirect keeps the request's id: file it under an id of its own, finished.
            self._redirects += 1
            done = self.transfers.pop(key)
            self._fill(done, redirect)
            done.wire = done.headers = int(redirect.get("encodedDataLength", 0))
            done.done = True
            self.transfers[f"{key}-redirect-{self._redirects}"] = done
        self.transfers[key] = Transfer(url=event["request"]["url"], method=event["request"]["method"])

    def _from_cache(self, event: dict) -> None:
        if transfer := self.transfers.get(event["requestId"]):
            transfer.from_cache = True

    @staticmethod
    def _fill(transfer: Transfer, response: dict) -> None:
        transfer.status = int(response.get("status", 0))
        transfer.mime = response.get("mimeType", "")
        headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        transfer.encoding = headers.get("content-encoding", "")
        transfer.from_cache = transfer.from_cache or bool(
            response.get("fromDiskCache") or response.get("fromPrefetchCache") or response.get("fromServiceWorker")
        )

    def _received(self, event: dict) -> None:
        if transfer := self.transfers.get(event["requestId"]):
            self._fill(transfer, event["response"])
            # Before the body arrives, what was received is the status line and the headers.
            transfer.headers = 0 if transfer.from_cache else int(event["response"].get("encodedDataLength", 0))

    def _data(self, event: dict) -> None:
        if transfer := self.transfers.get(event["requestId"]):
            transfer.body += int(event.get("dataLength", 0))

    def _finished(self, event: dict) -> None:
        if transfer := self.transfers.get(event["requestId"]):
            transfer.wire = 0 if transfer.from_cache else int(event.get("encodedDataLength", 0))
            transfer.done = True

    def _failed(self, event: dict) -> None:
        if transfer := self.transfers.get(event["requestId"]):
            transfer.failed = event.get("errorText", "failed")
            transfer.done = True

    def settle(self, page, timeout: float = 15) -> list[Transfer]:
        """Wait until every request has finished (fonts come after the styles), then return them all."""
        deadline = time.monotonic() + timeout
        page.evaluate("() => document.fonts.ready.then(() => true)")
        while time.monotonic() < deadline:
            page.wait_for_timeout(300)
            if all(t.done for t in self.transfers.values()):
                break
        return list(self.transfers.values())


@dataclass
class Visit:
    label: str
    transfers: list[Transfer] = field(default_factory=list)

    @property
    def wire(self) -> int:
        return sum(t.wire for t in self.transfers)

    @property
    def uncompressed(self) -> int:
        return sum(t.uncompressed for t in self.transfers)

    @property
    def requests(self) -> int:
        return sum(1 for t in self.transfers if not t.from_cache)


def measure(args, base: str, data: dict) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=base, locale="da-DK", viewport={"width": 1280, "height": 900})
            page = context.new_page()
            recorder = Recorder(page)

            visits = []
            for label in ("first visit", "repeat visit"):
                recorder.start()
                page.goto(data["answer_link"], wait_until="networkidle")
                visits.append(Visit(label, recorder.settle(page)))

            # The chief signs in (in a context of their own) and opens the report.
            chief = browser.new_context(base_url=base, locale="da-DK", viewport={"width": 1280, "height": 900})
            chief_page = chief.new_page()
            chief_page.goto("/login/")
            chief_page.fill("input[name=username]", data["chief_email"])
            chief_page.fill("input[name=password]", CHIEF_PASSWORD)
            with chief_page.expect_navigation():
                chief_page.locator("main form button[type=submit]").click()
            report_recorder = Recorder(chief_page)
            report_recorder.start()
            chief_page.goto(data["report"], wait_until="networkidle")
            report = Visit("report page", report_recorder.settle(chief_page))
            return {"browser": f"Chromium {browser.version}", "visits": visits, "report": report}
        finally:
            browser.close()


# --- Checks, the table, the command line -------------------------------------------------------------


def problems_in(result: dict, base: str) -> list[str]:
    problems = []
    for visit in [*result["visits"], result["report"]]:
        for t in visit.transfers:
            if not t.url.startswith(base + "/"):
                problems.append(f"{visit.label}: a request to another host: {t.url}")
            elif t.failed or t.status >= 400 or not t.done:
                problems.append(f"{visit.label}: {t.method} {t.path} gave {t.status} {t.failed or ''}".rstrip())
    report_html = [t for t in result["report"].transfers if t.mime == "text/html"]
    if not report_html or report_html[0].status != 200:
        problems.append("the report page did not answer 200 (was the chief signed in?)")
    return problems


def summary(result: dict, base: str) -> dict:
    first, repeat = result["visits"]
    report_html = next((t for t in result["report"].transfers if t.mime == "text/html"), Transfer(url=""))
    fonts = [t for t in first.transfers if "font" in t.mime or t.path.endswith((".woff2", ".woff", ".ttf", ".eot"))]
    elsewhere = [
        t.url for v in [*result["visits"], result["report"]] for t in v.transfers if not t.url.startswith(base)
    ]
    return {
        "browser": result["browser"],
        "first_visit": {"wire": first.wire, "uncompressed": first.uncompressed, "requests": first.requests},
        "repeat_visit": {"wire": repeat.wire, "requests": repeat.requests},
        "report": {
            "wire": report_html.wire,
            "uncompressed": report_html.uncompressed,
            "encoding": report_html.encoding,
        },
        "fonts": [{"path": t.path, "wire": t.wire, "mime": t.mime} for t in fonts],
        "third_party_requests": elsewhere,
        "transfers": {
            v.label: [asdict(t) | {"path": t.path, "url": TOKEN_PATH.sub("/a/<token>/", t.url)} for t in v.transfers]
            for v in result["visits"]
        },
    }


def short(path: str, width: int = 64) -> str:
    return path if len(path) <= width else "…" + path[-(width - 1) :]


def kb(n: float) -> str:
    return f"{n / KB:.1f} KB"


def table(figures: dict) -> str:
    first, repeat, report = figures["first_visit"], figures["repeat_visit"], figures["report"]

    def verdict(value: int, goal: int) -> str:
        return "met" if value < goal else "NOT met"

    rows = [
        (
            "first visit to the answer form",
            f"< {kb(FIRST_VISIT_GOAL)}",
            f"{kb(first['wire'])} in {first['requests']}",
            kb(first["uncompressed"]),
            "the same responses uncompressed",
            verdict(first["wire"], FIRST_VISIT_GOAL),
        ),
        (
            "repeat visit to the answer form",
            f"< {kb(REPEAT_VISIT_GOAL)}",
            f"{kb(repeat['wire'])} in {repeat['requests']}",
            kb(first["wire"]),
            "the first visit",
            verdict(repeat["wire"], REPEAT_VISIT_GOAL),
        ),
        (
            "report page (HTML)",
            "compressed",
            f"{kb(report['wire'])} {report['encoding'] or 'identity'}",
            kb(report["uncompressed"]),
            "the same page uncompressed",
            "met" if report["encoding"] else "NOT met",
        ),
        (
            "requests to other hosts",
            "0",
            str(len(figures["third_party_requests"])),
            "",
            "",
            "met" if not figures["third_party_requests"] else "NOT met",
        ),
    ]
    header = ("target", "goal", "measured", "baseline", "baseline is", "")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)) for row in [header]]
    lines.append("-" * len(lines[0]))
    lines += ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines += ["", "First visit, request by request (bytes over the network, and the body decoded):"]
    for t in figures["transfers"]["first visit"]:
        encoding = t["encoding"] or "-"
        lines.append(
            f"  {t['status']:>3} {short(t['path']):<64} {t['mime'][:16]:<16} {encoding:<5} {kb(t['wire']):>9}"
            f"  ({kb(t['body'])} body)"
        )
    fonts = figures["fonts"]
    lines.append(
        f"Fonts: {len(fonts)} files, {kb(sum(f['wire'] for f in fonts))}: " + ", ".join(f["mime"] for f in fonts)
    )
    lines.append("Repeat visit, request by request:")
    for t in figures["transfers"]["repeat visit"]:
        where = "cache" if t["from_cache"] else kb(t["wire"])
        lines.append(f"  {t['status']:>3} {short(t['path']):<64} {where:>9}")
    for url in figures["third_party_requests"]:
        lines.append(f"  ! a request to another host: {url}")
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--chromium",
        default=os.environ.get("GENSIDIG_CHROMIUM") or shutil.which("chromium"),
        help="Chromium's executable (default: $GENSIDIG_CHROMIUM, or chromium on the PATH).",
    )
    parser.add_argument("--json", type=Path, help="Also write the figures to this file as JSON.")
    parser.add_argument("--max-seconds", type=int, default=300, help="Seconds the whole run may take (default 300).")
    args = parser.parse_args(argv)
    if not args.chromium:
        parser.error("Chromium was not found: give --chromium or set GENSIDIG_CHROMIUM")
    return args


def main(argv: list[str]) -> int:
    if (status := run_helper(argv, HELPERS)) is not None:
        return status
    args = parse_args(argv)
    if importlib.util.find_spec("gensidig") is None or importlib.util.find_spec("playwright") is None:
        print(
            "gensidig or playwright is not importable: run with the project's virtualenv (make bench).", file=sys.stderr
        )
        return 2
    limit_run_time(args.max_seconds)
    print(
        f"Gensidig page weight: Python {sys.version.split()[0]}, {versions('Django', 'whitenoise', 'playwright')}; "
        f"goals: first visit < {kb(FIRST_VISIT_GOAL)}, repeat visit < {kb(REPEAT_VISIT_GOAL)}, HTML compressed",
        flush=True,
    )

    def run() -> int:
        with tempfile.TemporaryDirectory(prefix="gensidig-bench-weight-") as folder:
            data_dir = Path(folder)
            port = free_port()
            env = app_env(
                data_dir=data_dir, static_root=data_dir / "static", site_url=f"http://{HOST}:{port}", database_url=None
            )
            started = time.monotonic()
            # Independent of each other (files, and the database): both at once.
            with ThreadPoolExecutor(max_workers=2) as pool:
                steps = [
                    pool.submit(run_command, gensidig_command(step, "--no-input", "-v", "0"), env=env, timeout=300)
                    for step in SETUP
                ]
                for step in steps:
                    step.result()
            made = run_command(
                helper_command(__file__, "_make-data"),
                env=env,
                stdin=json.dumps({"password": CHIEF_PASSWORD}),
                timeout=300,
            )
            data = helper_output(made)
            print(
                f"   static files, schema, an open and a closed round: {time.monotonic() - started:.1f} s", flush=True
            )
            log_path = data_dir / "server.log"
            with production_server(env, port=port, workers=2, log_path=log_path) as base:
                result = measure(args, base, data)
            problems = problems_in(result, base)
            figures = summary(result, base)
        print(f"{figures['browser']}, gensidig serve on {HOST}\n\n{table(figures)}", flush=True)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1))
        for problem in problems:
            print(f"! {problem}", file=sys.stderr)
        return 1 if problems else 0

    return finish(run, stopped="the server was stopped")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
