"""Small, deterministic, accessible SVG charts, drawn on the server.

Each chart is an <svg role="img"> with a title and a description, and the page puts the same
numbers in a table beside it. Series differ by shape as well as colour, so the charts read in
greyscale and for people who do not see colour. No script, no style attributes (the CSP
forbids inline styles); looks come from classes in gensidig.css.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

SCALE_MIN, SCALE_MAX = 1, 5


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    shape: str  # "circle-open", "circle", "diamond", "square-open"

    @property
    def icon(self) -> SafeString:
        return legend_icon(self)


@dataclass(frozen=True)
class DotRow:
    label: str
    values: dict[str, float | None]
    note: str = ""  # shown in place of the dots when the leaders' figures are withheld
    flagged: bool = False  # drawn with a marker, e.g. strong disagreement among leaders


def _fmt(number: float) -> str:
    return f"{number:.1f}"


def _shape(shape: str, x: float, y: float, css: str) -> str:
    if shape in ("circle", "circle-open"):
        return f'<circle class="{css} {shape}" cx="{_fmt(x)}" cy="{_fmt(y)}" r="7"/>'
    if shape == "diamond":
        points = f"{_fmt(x)},{_fmt(y - 9)} {_fmt(x + 9)},{_fmt(y)} {_fmt(x)},{_fmt(y + 9)} {_fmt(x - 9)},{_fmt(y)}"
        return f'<polygon class="{css} {shape}" points="{points}"/>'
    if shape == "square-open":
        return f'<rect class="{css} {shape}" x="{_fmt(x - 6)}" y="{_fmt(y - 6)}" width="12" height="12"/>'
    raise ValueError(shape)


def legend_icon(series: Series) -> SafeString:
    """The series' marker as a tiny decorative SVG, for an HTML legend next to the chart."""
    return mark_safe(  # noqa: S308 - built from our own constants only
        '<svg class="chart-legend-icon" width="22" height="22" viewBox="0 0 22 22" aria-hidden="true" '
        f'focusable="false">{_shape(series.shape, 11, 11, "series-" + series.key)}</svg>'
    )


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _svg_open(chart_id: str, width: int, height: int, title: str, description: str) -> str:
    return format_html(
        '<svg class="chart" id="{}" viewBox="0 0 {} {}" width="100%" role="img" '
        'aria-labelledby="{}-title {}-desc" preserveAspectRatio="xMinYMin meet" '
        'xmlns="http://www.w3.org/2000/svg"><title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
        chart_id,
        width,
        height,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        description,
    )


def dot_plot(
    *,
    chart_id: str,
    title: str,
    description: str,
    rows: list[DotRow],
    series: list[Series],
    connect: tuple[str, str] | None = None,
    label_width: int = 300,
) -> SafeString:
    """One row per label on a 1-5 axis, a marker per series, and an optional line between two
    series (the gap between importance and experience, say)."""
    width, row_height, top, right = 760, 40, 34, 24
    left = label_width + 20
    height = top + row_height * len(rows) + 12
    span = width - right - left

    def x_of(value: float) -> float:
        return left + (value - SCALE_MIN) / (SCALE_MAX - SCALE_MIN) * span

    parts = [_svg_open(chart_id, width, height, title, description)]
    for tick in range(SCALE_MIN, SCALE_MAX + 1):
        x = x_of(tick)
        parts.append(f'<line class="chart-grid" x1="{_fmt(x)}" y1="{top - 6}" x2="{_fmt(x)}" y2="{height - 8}"/>')
        parts.append(f'<text class="chart-tick" x="{_fmt(x)}" y="{top - 12}" text-anchor="middle">{tick}</text>')
    for index, row in enumerate(rows):
        y = top + row_height * index + row_height / 2
        if index % 2 == 0:
            parts.append(
                f'<rect class="chart-band" x="0" y="{_fmt(y - row_height / 2)}" width="{width}" height="{row_height}"/>'
            )
        label = escape(_truncate(row.label, label_width // 7))
        parts.append(f'<text class="chart-label" x="{label_width}" y="{_fmt(y + 5)}" text-anchor="end">{label}</text>')
        if row.flagged:
            parts.append(f'<text class="chart-flag" x="{label_width + 8}" y="{_fmt(y + 5)}">!</text>')
        present = {key: value for key, value in row.values.items() if value is not None}
        if connect and all(key in present for key in connect):
            x1, x2 = x_of(present[connect[0]]), x_of(present[connect[1]])
            parts.append(f'<line class="chart-gap" x1="{_fmt(x1)}" y1="{_fmt(y)}" x2="{_fmt(x2)}" y2="{_fmt(y)}"/>')
        if row.note:
            parts.append(f'<text class="chart-note" x="{_fmt(left + 8)}" y="{_fmt(y + 5)}">{escape(row.note)}</text>')
        for serie in series:
            if serie.key in present:
                parts.append(_shape(serie.shape, x_of(present[serie.key]), y, "series-" + serie.key))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


@dataclass(frozen=True)
class GridPoint:
    number: int
    importance: float
    experience: float


def importance_performance_grid(
    *,
    chart_id: str,
    title: str,
    description: str,
    points: list[GridPoint],
    band: float,
    important_from: float,
    quadrant_labels: dict[str, str],
) -> SafeString:
    """Items placed by experience (x) and importance (y), in four regions: the diagonal where the
    two are equal, with a band of `band` on either side, and the line at `important_from`
    (statistics.quadrant classifies by the same lines)."""
    size, margin = 500, 52
    plot = size - 2 * margin
    # Zoom to the whole points above the lowest value, so a cluster of 3.5-4.5 is not a single blob.
    values = [v for p in points for v in (p.importance, p.experience)] + [important_from]
    low = max(SCALE_MIN, math.floor(min(values))) if values else SCALE_MIN
    low = min(low, SCALE_MAX - 1)

    def x_of(value: float) -> float:
        return margin + (value - low) / (SCALE_MAX - low) * plot

    def y_of(value: float) -> float:
        return size - margin - (value - low) / (SCALE_MAX - low) * plot

    def line(css: str, x1: float, y1: float, x2: float, y2: float) -> str:
        return (
            f'<line class="{css}" x1="{_fmt(x_of(x1))}" y1="{_fmt(y_of(y1))}" '
            f'x2="{_fmt(x_of(x2))}" y2="{_fmt(y_of(y2))}"/>'
        )

    parts = [_svg_open(chart_id, size, size, title, description)]
    parts.append(f'<rect class="chart-frame" x="{margin}" y="{margin}" width="{plot}" height="{plot}"/>')
    for tick in range(low, SCALE_MAX + 1):
        parts.append(
            f'<text class="chart-tick" x="{_fmt(x_of(tick))}" y="{size - margin + 18}" text-anchor="middle">{tick}</text>'
        )
        parts.append(
            f'<text class="chart-tick" x="{margin - 10}" y="{_fmt(y_of(tick) + 4)}" text-anchor="end">{tick}</text>'
        )
    # The diagonal (experience equals importance) and the band either side of it, within the plot.
    parts.append(line("chart-diagonal", low, low, SCALE_MAX, SCALE_MAX))
    parts.append(line("chart-band", low, low + band, SCALE_MAX - band, SCALE_MAX))
    parts.append(line("chart-band", low + band, low, SCALE_MAX, SCALE_MAX - band))
    # Below `important_from` everything not over-served is of lower priority: the line runs from
    # the left edge to where it meets the lower band line.
    if important_from > low:
        parts.append(line("chart-cross", low, important_from, min(SCALE_MAX, important_from + band), important_from))
    corners = {
        "concentrate": (margin + 6, margin + 16, "start"),
        "keep_up": (size - margin - 6, margin + 16, "end"),
        "low_priority": (margin + 6, size - margin - 8, "start"),
        "possible_overkill": (size - margin - 6, size - margin - 8, "end"),
    }
    for key, (x, y, anchor) in corners.items():
        if key == "low_priority" and important_from <= low:
            continue  # every point is important: the region is not on the chart
        parts.append(
            f'<text class="chart-quadrant" x="{x}" y="{y}" text-anchor="{anchor}">{escape(quadrant_labels[key])}</text>'
        )
    for point in points:
        x, y = x_of(point.experience), y_of(point.importance)
        parts.append(f'<circle class="series-experience circle" cx="{_fmt(x)}" cy="{_fmt(y)}" r="11"/>')
        parts.append(
            f'<text class="chart-point-label" x="{_fmt(x)}" y="{_fmt(y + 4)}" text-anchor="middle">{point.number}</text>'
        )
    parts.append(
        f'<text class="chart-axis" x="{size / 2}" y="{size - 8}" text-anchor="middle">'
        f"{escape(quadrant_labels['x_axis'])}</text>"
    )
    parts.append(
        f'<text class="chart-axis" x="14" y="{size / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {size / 2})">{escape(quadrant_labels["y_axis"])}</text>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
