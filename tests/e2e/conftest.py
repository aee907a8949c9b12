"""Browser tests: Debian's Chromium, driven by Playwright, against pytest-django's live server.

Every test gets a fresh browser context (no cookies or sessions carried over) in Danish, the
default language, unless it asks for English. `assert_accessible` runs axe-core against WCAG 2.1
A and AA on the page as it is shown.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

E2E_DIR = Path(__file__).resolve().parent
AXE_JS = E2E_DIR / "vendor" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}


def pytest_collection_modifyitems(config, items):
    # This hook sees every collected item, not just those below this folder.
    for item in items:
        if E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def find_chromium() -> str | None:
    return os.environ.get("GENSIDIG_CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = find_chromium()
    if not executable:
        message = "Chromium not found: set GENSIDIG_CHROMIUM or install Debian's chromium package."
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} A missing browser in CI is a failure, not a skip.")
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread, so Django's guard against ORM
    # calls from async code would trip on the tests' own database checks.
    env = pytest.MonkeyPatch()
    env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        env.undo()


@pytest.fixture
def new_page(browser: Browser, live_server) -> Iterator[Callable[..., Page]]:
    """Make a page in a fresh context: `new_page(phone=True, language="en", javascript=False)`.

    Without a language the browser asks for Danish, as a Danish municipal user's would; with
    one, the language cookie is set as the switch in the header sets it.
    """
    contexts: list[BrowserContext] = []

    def make(*, phone: bool = False, language: str | None = None, javascript: bool = True) -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            bypass_csp=True,  # the CSP forbids inline scripts, and axe has to be injected
            java_script_enabled=javascript,
            locale="da-DK",
            **(PHONE if phone else DESKTOP),
        )
        context.set_default_timeout(10_000)
        if language:
            context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page) -> Page:
    return new_page()


def assert_accessible(page: Page) -> None:
    """Run axe-core's WCAG 2.1 A/AA rules on the page and fail with what to fix."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    violations = page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {
                runOnly: {type: 'tag', values: tags},
                resultTypes: ['violations'],
            });
            return results.violations.map((v) => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                helpUrl: v.helpUrl,
                nodes: v.nodes.map((n) => ({target: n.target, html: n.html, summary: n.failureSummary})),
            }));
        }""",
        WCAG_TAGS,
    )
    if violations:
        lines = [f"axe found {len(violations)} WCAG 2.1 A/AA violation(s) on {page.url}:"]
        for violation in violations:
            lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
            for node in violation["nodes"][:3]:
                lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:300]}")
                if node["summary"]:
                    lines.append("      " + node["summary"].replace("\n", "\n      "))
            if len(violation["nodes"]) > 3:
                lines.append(f"    … and {len(violation['nodes']) - 3} more")
        pytest.fail("\n".join(lines), pytrace=False)
