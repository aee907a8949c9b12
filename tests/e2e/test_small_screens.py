"""The report, the meeting guide, meeting mode and the answer pages on a 320 px and a 375 px phone
and a 1280 px desktop: no page wider than the screen (WCAG 1.4.10), chart text at 12 px or more,
tables that show they scroll, a focus ring at 3:1 or more against what is around it (WCAG 1.4.11),
and axe-core on every page.

The browser is a narrow desktop window rather than an emulated phone: an emulated phone may zoom
out to fit a page that is too wide, which would hide the very overflow measured here. 320 px
is also what a 1280 px window shows at 400 % zoom.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from PIL import Image, ImageStat
from playwright.sync_api import Browser, Locator, Page, expect

from ..factories import CHIEF_PASSWORD, leader_links, make_team, start_round
from .conftest import assert_accessible
from .test_dialogue import FOCUS, guide_path, present_path, round_with_a_focus_theme
from .test_report import report_path, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

MIN_CHART_TEXT_PX = 12
MIN_FOCUS_CONTRAST = 3
PHONES = [320, 375]
WIDTHS = [*PHONES, 1280]
FIRST_THEME_STEP = 3  # meeting mode: welcome, the four differences, then the first theme with its chart

# The rendered size of every <text> in the charts that are shown: its computed font-size, which
# is in the SVG's own units, times the scale at which the SVG draws it on the screen (the square
# root of the determinant of its screen transformation matrix, so a rotated axis name counts
# too). The height of a text's bounding box would include the line's ascent and descent and
# vary with the font; this is the size of the font itself, in CSS px. Each text must also lie
# within its chart as drawn, or a wrapped line would be cut off at the edge.
CHART_TEXT = """() => {
  const charts = [...document.querySelectorAll('figure.gs-chart')].map((figure) => {
    const shown = [...figure.querySelectorAll('svg[role=img]')].filter((svg) => svg.checkVisibility());
    const texts = shown.flatMap((svg) => {
      const box = svg.getBoundingClientRect();
      return [...svg.querySelectorAll('text')].map((text) => {
        const m = text.getScreenCTM();
        const r = text.getBoundingClientRect();
        return {
          chart: svg.id,
          text: text.textContent,
          px: parseFloat(getComputedStyle(text).fontSize) * Math.sqrt(Math.abs(m.a * m.d - m.b * m.c)),
          inside: r.left >= box.left - 1 && r.right <= box.right + 1 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1,
        };
      });
    });
    return {shown: shown.map((svg) => svg.id), texts};
  });
  return charts;
}"""

# WCAG 2.x relative luminance and contrast ratio, of the outline's colour against the first
# opaque background behind it: an outline is drawn outside its element, so the background that
# counts is that of the element's parents (or of the element a pseudo-element belongs to).
FOCUS_CONTRAST = """([element, pseudo]) => {
  const rgb = (colour) => colour.match(/[\\d.]+/g).map(Number);
  const luminance = (colour) => {
    const [r, g, b] = rgb(colour).slice(0, 3).map((v) => {
      const c = v / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const opaque = (colour) => { const v = rgb(colour); return v.length < 4 || v[3] === 1; };
  const style = getComputedStyle(element, pseudo);
  let behind = pseudo ? element : element.parentElement;
  let background = 'rgb(255, 255, 255)';
  for (; behind; behind = behind.parentElement) {
    const colour = getComputedStyle(behind).backgroundColor;
    if (opaque(colour)) { background = colour; break; }
  }
  const [a, b] = [luminance(style.outlineColor), luminance(background)];
  return {
    style: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
    colour: style.outlineColor,
    background,
    ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
  };
}"""


@pytest.fixture
def window(browser: Browser, live_server) -> Iterator:
    """Make a page in a fresh context `width` px wide (Danish, the default language)."""
    contexts = []

    def make(width: int) -> Page:
        context = browser.new_context(
            base_url=live_server.url, bypass_csp=True, locale="da-DK", viewport={"width": width, "height": 800}
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def assert_fits_the_screen(page: Page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} is {width[0]} px wide in a {width[1]} px window"


def assert_charts_read(page: Page) -> None:
    """Each figure shows exactly one of its chart's layouts, and all its text at 12 px or more, within the chart."""
    charts = page.evaluate(CHART_TEXT)
    where = f"{page.url} at {page.viewport_size['width']} px"
    assert charts, f"no chart on {page.url}"
    for chart in charts:
        assert len(chart["shown"]) == 1, f"{where}: a figure shows {chart['shown']}"
        assert chart["texts"]
        small = [t for t in chart["texts"] if t["px"] < MIN_CHART_TEXT_PX]
        assert not small, f"{where}: chart text under {MIN_CHART_TEXT_PX} px: {small[:3]}"
        outside = [t for t in chart["texts"] if not t["inside"]]
        assert not outside, f"{where}: chart text beyond the chart's edge: {outside[:3]}"


def assert_focus_shows(page: Page, locator: Locator, *, ring_on: Locator | None = None, pseudo: str | None = None):
    """Focus the element and check its outline (or that of `ring_on`'s `pseudo`-element, where the
    design system draws it) against the background around it."""
    locator.focus()
    expect(locator).to_be_focused()
    ring = page.evaluate(FOCUS_CONTRAST, [(ring_on or locator).element_handle(), pseudo])
    assert ring["style"] != "none" and ring["width"] >= 2, ring
    assert ring["ratio"] >= MIN_FOCUS_CONTRAST, f"{page.url} at {page.viewport_size['width']} px: focus ring {ring}"


def edge_brightness(region: Locator, side: str) -> float:
    """The mean brightness of the region's outermost 10 px on one side, as drawn."""
    image = Image.open(io.BytesIO(region.screenshot())).convert("L")
    scale = image.width / region.bounding_box()["width"]  # device pixels per CSS pixel
    strip = round(10 * scale)
    box = (0, 0, strip, image.height) if side == "left" else (image.width - strip, 0, image.width, image.height)
    return ImageStat.Stat(image.crop(box)).mean[0]


def assert_tables_show_they_scroll(page: Page) -> None:
    """A table wider than the screen has a shadow on the side with more to see, and none on a side that is reached."""
    regions = [
        r for r in page.locator(".table--responsive-scroll").all() if r.evaluate("e => e.scrollWidth > e.clientWidth")
    ]
    assert regions, f"no table on {page.url} is wider than the screen; this test no longer tests scrolling"
    region = regions[0]
    region.scroll_into_view_if_needed()
    start_right, start_left = edge_brightness(region, "right"), edge_brightness(region, "left")
    region.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
    end_right, end_left = edge_brightness(region, "right"), edge_brightness(region, "left")
    region.evaluate("e => { e.scrollLeft = 0; }")
    # At the start the right edge is shaded (more to come) and the left is not; at the end, the reverse.
    assert start_right < end_right - 4, (start_right, end_right)
    assert end_left < start_left - 4, (start_left, end_left)


def test_the_report_guide_and_meeting_mode_fit_the_screen_with_readable_charts_and_visible_focus(window):
    team = make_team(leaders=8)
    round_ = round_with_a_focus_theme(team)
    page = window(WIDTHS[0])
    sign_in(page, team.chief.email, CHIEF_PASSWORD)

    for width in WIDTHS:  # one signed-in page, resized: the same as a fresh one at each width, and faster
        page.set_viewport_size({"width": width, "height": 800})
        phone = width in PHONES

        page.goto(report_path(round_))
        assert_fits_the_screen(page)
        assert_charts_read(page)
        assert_accessible(page)
        assert_focus_shows(page, page.locator(".gs-header .gs-nav a").first)
        assert_focus_shows(page, page.locator("main .gs-theme-links a").first)
        if phone:
            assert_tables_show_they_scroll(page)

        page.goto(f"{report_path(round_)}{FOCUS}/")
        assert_fits_the_screen(page)
        assert_charts_read(page)
        assert_accessible(page)

        page.goto(guide_path(round_))
        assert_fits_the_screen(page)
        assert_charts_read(page)
        assert_accessible(page)

        # Meeting mode: its bar is navy like the site's header. On a phone every step must fit.
        page.goto(present_path(round_))
        assert_focus_shows(page, page.locator(".gs-present-bar a"))
        assert_focus_shows(page, page.locator("#gs-next"))
        steps = int(re.search(r"\((\d+)/(\d+)\)", page.title()).group(2))  # "Welcome (1/8) – team"
        for step in range(1, steps + 1) if phone else [FIRST_THEME_STEP]:
            page.goto(present_path(round_, step))
            assert_fits_the_screen(page)
            if step == FIRST_THEME_STEP:
                assert_charts_read(page)
                assert_accessible(page)


def fits_each_phone(page: Page) -> None:
    for width in PHONES:
        page.set_viewport_size({"width": width, "height": 800})
        assert_fits_the_screen(page)


def test_the_answer_pages_fit_a_phone_and_their_errors_and_focus_show(window, team):
    _round, links = start_round(team)
    page = window(PHONES[0])
    page.goto(f"/a/{leader_links(links)[0].token}/")
    fits_each_phone(page)
    assert_focus_shows(page, page.locator("main button[name=action][value=next]"))

    with page.expect_navigation():
        page.locator("button[name=action][value=next]").click()
    fits_each_phone(page)
    # The design system hides the radio itself and rings the circle it draws before the label.
    radio = page.locator(".gs-answer-form input[type=radio]").first
    label = page.locator(f'label[for="{radio.get_attribute("id")}"]')
    assert_focus_shows(page, radio, ring_on=label, pseudo="::before")

    # Sent with nothing answered: each link of the error summary is its own (the words are
    # checked against the statements in tests/views/test_answer_flow.py), and the page still fits.
    with page.expect_navigation():
        page.locator("button[name=action][value=next]").click()
    summary_links = page.locator("#error-summary a")
    texts = [text.strip() for text in summary_links.all_inner_texts()]
    assert len(texts) > 1 and len(set(texts)) == len(texts), texts
    fits_each_phone(page)
    assert_accessible(page)
    assert_focus_shows(page, summary_links.first)
