"""Issue 12's first visit in a real browser: the bytes Chromium moves, and the faces the pages ask for.

The first test runs benchmarks/page_weight.py, which serves the app as in production (`gensidig
serve`: gunicorn, WhiteNoise, collected static files with hashed names) and counts, from
Chromium's own account, every byte a first and a repeat visit to the answer form move. The
second shows that every piece of text on the answer form and the report is set in one of the
faces we serve, so no page waits for a font we dropped or has the browser fake one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page

from ..factories import CHIEF_PASSWORD, closed_round, leader_links, make_team, start_round
from .conftest import find_chromium

KB = 1024
BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "page_weight.py"
SERVED_FACES = {("400", "normal"), ("400", "italic"), ("600", "normal"), ("700", "normal")}
FAMILY = "Gensidig Sans"


def test_a_first_visit_to_the_answer_form_moves_under_100_kb_and_a_repeat_visit_under_10_kb(tmp_path):
    chromium = find_chromium()
    if not chromium:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium not found: a missing browser in CI is a failure, not a skip.")
        pytest.skip("Chromium not found: set GENSIDIG_CHROMIUM or install Debian's chromium package.")
    figures_file = tmp_path / "figures.json"
    done = subprocess.run(  # noqa: S603 - our own benchmark, with this interpreter
        [sys.executable, str(BENCHMARK), "--chromium", chromium, "--json", str(figures_file), "--max-seconds", "240"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(figures_file.read_text())
    first, repeat, report = figures["first_visit"], figures["repeat_visit"], figures["report"]
    assert first["wire"] < 100 * KB, done.stdout
    assert repeat["wire"] < 10 * KB, done.stdout
    # On a repeat visit only the redirect and the page move: every static file comes from the cache.
    assert repeat["requests"] == 2, done.stdout
    assert figures["fonts"] and all(font["mime"] == "font/woff2" for font in figures["fonts"]), done.stdout
    assert report["encoding"] == "gzip" and report["wire"] < report["uncompressed"] / 3, done.stdout
    assert figures["third_party_requests"] == []
    page = next(t for t in figures["transfers"]["first visit"] if t["path"] == "/answer/")
    assert page["encoding"] == "gzip"


FACES_IN_USE = """() => {
    const faces = new Set();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const element = walker.currentNode.parentElement;
        if (!walker.currentNode.textContent.trim() || !element.checkVisibility()) continue;
        const style = getComputedStyle(element);
        faces.add(JSON.stringify([style.fontFamily.split(",")[0].replace(/["']/g, "").trim(),
                                  style.fontWeight, style.fontStyle]));
    }
    return [...faces].map((face) => JSON.parse(face));
}"""
FONTS_LOADED = """async () => {
    await document.fonts.ready;
    return [...document.fonts].filter((font) => font.status !== "unloaded")
        .map((font) => [font.family.replace(/["']/g, ""), font.weight, font.style, font.status]);
}"""


def assert_only_served_faces(page: Page, where: str) -> None:
    wanted = {(weight, style) for family, weight, style in page.evaluate(FACES_IN_USE) if family == FAMILY}
    assert wanted, f"{where}: no text in {FAMILY}"
    assert wanted <= SERVED_FACES, f"{where} asks for faces that are not served: {wanted - SERVED_FACES}"
    loaded = page.evaluate(FONTS_LOADED)
    assert loaded and all(status == "loaded" for *_face, status in loaded), f"{where}: {loaded}"
    assert {(weight, style) for family, weight, style, _ in loaded if family == FAMILY} <= SERVED_FACES


@pytest.mark.django_db(transaction=True)
def test_the_answer_form_and_the_report_use_only_the_faces_that_are_served(new_page):
    _round, links = start_round(make_team(leaders=6))
    page = new_page()
    page.goto(f"/a/{leader_links(links)[0].token}/")
    assert_only_served_faces(page, "the answer form's first page")
    with page.expect_navigation():
        page.locator("button[name=action][value=next]").click()
    assert_only_served_faces(page, "the first theme")

    team = make_team(leaders=6)
    round_ = closed_round(team, answering=5)
    chief = new_page()
    chief.goto("/login/")
    chief.locator("#id_username").fill(team.chief.email)
    chief.locator("#id_password").fill(CHIEF_PASSWORD)
    with chief.expect_navigation():
        chief.locator("main form button[type=submit]").click()
    chief.goto(f"/rounds/{round_.public_id}/report/")
    assert_only_served_faces(chief, "the report")
