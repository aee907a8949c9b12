"""Small, deterministic, accessible SVG charts, drawn on the server.

Each chart is an <svg role="img"> with a title and a description, and the page puts the same
numbers in a table beside it. Series differ by shape as well as colour, so the charts read in
greyscale and for people who do not see colour. No script, no style attributes (the CSP
forbids inline styles); looks come from classes in gensidig.css.

Every chart comes in two layouts, one after the other: the wide one first, and a narrow one
(class `chart-narrow`, its ids ending in `-narrow`) drawn for a phone. An SVG scales its text
with its width, so one layout cannot serve both: the wide overview shrunk into a 320 px screen
writes its labels 5 px high. The narrow layout is 300 units wide, so its text, 13-14 units,
is drawn at 12 px or more in any column from 280 px up. gensidig.css shows exactly one of the
two, by the width of the figure around it (a container query); the other is display:none and
so hidden from assistive technology too. The PDF shows the wide one (print.css hides the
narrow), and services/pdf.py styles the first SVG of the pair, which is the wide one.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

SCALE_MIN, SCALE_MAX = 1, 5
NARROW_WIDTH = 300  # units; the narrow layouts' text sizes are in gensidig.css (.chart-narrow ...)
NARROW_SUFFIX = "-narrow"
# A generous average width of a character at 14 px, in units, to wrap text before it runs out
# of a narrow chart (no font metrics on the server; the e2e tests check it fits as rendered).
CHAR_WIDTH_14 = 8.0


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


def _wrap(text: str, width: float, *, max_lines: int, char_width: float = CHAR_WIDTH_14) -> list[str]:
    """`text` in lines that fit `width` units, at most `max_lines` of them, the last cut with "…"."""
    chars = max(4, int(width / char_width))
    lines = textwrap.wrap(text, width=chars, break_on_hyphens=False) or [""]
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], _truncate(" ".join(lines[max_lines - 1 :]), chars)]
    return lines


def _text_lines(css: str, x: float, y: float, lines: list[str], *, line_height: float, anchor: str = "start") -> str:
    """One <text> whose lines are tspans, `line_height` apart, the first on baseline `y`.

    Each line but the last ends in a space, so the text reads as the words it was made of.
    """
    spans = "".join(
        f'<tspan x="{_fmt(x)}" y="{_fmt(y + index * line_height)}">{escape(line)}{" " if index < len(lines) - 1 else ""}'
        "</tspan>"
        for index, line in enumerate(lines)
    )
    return f'<text class="{css}" text-anchor="{anchor}">{spans}</text>'


def _svg_open(chart_id: str, width: int, height: float, title: str, description: str, css: str = "chart") -> str:
    return format_html(
        '<svg class="{}" id="{}" viewBox="0 0 {} {}" width="100%" role="img" '
        'aria-labelledby="{}-title {}-desc" preserveAspectRatio="xMinYMin meet" '
        'xmlns="http://www.w3.org/2000/svg"><title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
        css,
        chart_id,
        width,
        _fmt(height) if isinstance(height, float) else height,
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
    series (the gap between importance and experience, say).

    Two layouts (see the module's docstring): labels beside the axis, and for a phone, each label
    above its own axis."""
    wide = _dot_plot_wide(
        chart_id=chart_id,
        title=title,
        description=description,
        rows=rows,
        series=series,
        connect=connect,
        label_width=label_width,
    )
    narrow = _dot_plot_narrow(
        chart_id=chart_id + NARROW_SUFFIX,
        title=title,
        description=description,
        rows=rows,
        series=series,
        connect=connect,
    )
    return mark_safe(wide + narrow)  # noqa: S308 - every text in both is escaped


def _markers(row: DotRow, series: list[Series], connect, x_of, y: float) -> list[str]:
    """The gap line and the markers of one row, on baseline `y`."""
    parts = []
    present = {key: value for key, value in row.values.items() if value is not None}
    if connect and all(key in present for key in connect):
        x1, x2 = x_of(present[connect[0]]), x_of(present[connect[1]])
        parts.append(f'<line class="chart-gap" x1="{_fmt(x1)}" y1="{_fmt(y)}" x2="{_fmt(x2)}" y2="{_fmt(y)}"/>')
    for serie in series:
        if serie.key in present:
            parts.append(_shape(serie.shape, x_of(present[serie.key]), y, "series-" + serie.key))
    return parts


def _dot_plot_wide(*, chart_id, title, description, rows, series, connect, label_width) -> str:
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
        if row.note:
            parts.append(f'<text class="chart-note" x="{_fmt(left + 8)}" y="{_fmt(y + 5)}">{escape(row.note)}</text>')
        parts.extend(_markers(row, series, connect, x_of, y))
    parts.append("</svg>")
    return "".join(parts)


def _dot_plot_narrow(*, chart_id, title, description, rows, series, connect) -> str:
    """Each row: its label (up to three lines), the note where figures are withheld, then its own
    1-5 axis with the markers; the scale's numbers above the first row and below the last."""
    width, pad, line = NARROW_WIDTH, 8, 18
    left, right = 18, width - 18  # a marker at 1 or 5 (9 units at most) stays inside
    span = right - left

    def x_of(value: float) -> float:
        return left + (value - SCALE_MIN) / (SCALE_MAX - SCALE_MIN) * span

    def ticks(y: float) -> list[str]:
        return [
            f'<text class="chart-tick" x="{_fmt(x_of(t))}" y="{_fmt(y)}" text-anchor="middle">{t}</text>'
            for t in range(SCALE_MIN, SCALE_MAX + 1)
        ]

    body: list[str] = []
    y = 24.0  # the top of the first row, below the scale's numbers
    for index, row in enumerate(rows):
        flag_width = 16 if row.flagged else 0
        label_lines = _wrap(row.label, width - 2 * pad - flag_width, max_lines=3)
        note_lines = _wrap(row.note, width - 2 * pad, max_lines=3) if row.note else []
        has_markers = any(value is not None for value in row.values.values())
        first_baseline = y + 18
        marker_y = first_baseline + line * (len(label_lines) + len(note_lines) - 1) + 20
        bottom = marker_y + 14 if has_markers else marker_y - 6
        if index % 2 == 0:
            body.append(f'<rect class="chart-band" x="0" y="{_fmt(y)}" width="{width}" height="{_fmt(bottom - y)}"/>')
        if row.flagged:
            body.append(f'<text class="chart-flag" x="{pad}" y="{_fmt(first_baseline)}">!</text>')
        body.append(_text_lines("chart-label", pad + flag_width, first_baseline, label_lines, line_height=line))
        if note_lines:
            note_baseline = first_baseline + line * len(label_lines)
            body.append(_text_lines("chart-note", pad, note_baseline, note_lines, line_height=line))
        if has_markers:
            for tick in range(SCALE_MIN, SCALE_MAX + 1):
                x = _fmt(x_of(tick))
                body.append(
                    f'<line class="chart-grid" x1="{x}" y1="{_fmt(marker_y - 11)}" x2="{x}" y2="{_fmt(marker_y + 11)}"/>'
                )
            body.extend(_markers(row, series, connect, x_of, marker_y))
        y = bottom
    height = y + 26
    parts = [_svg_open(chart_id, width, height, title, description, css="chart chart-narrow")]
    parts.extend(ticks(17))
    parts.extend(body)
    parts.extend(ticks(height - 8))
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class GridPoint:
    number: int
    importance: float
    experience: float


@dataclass(frozen=True)
class _GridLayout:
    """Where the grid's parts go: the plot square and the room around it for the scale's numbers,
    the axis names and the regions' names."""

    width: int
    left: int
    right: int
    top: int
    bottom: int
    radius: int
    point_dy: float
    region_wrap: float | None  # None: each region's name on one line
    region_line: float = 17


WIDE_GRID = _GridLayout(width=500, left=52, right=52, top=52, bottom=52, radius=11, point_dy=4, region_wrap=None)
NARROW_GRID = _GridLayout(
    width=NARROW_WIDTH, left=48, right=10, top=14, bottom=46, radius=12, point_dy=4.5, region_wrap=112
)


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
    (statistics.quadrant classifies by the same lines).

    Two layouts (see the module's docstring), the same lines and regions in each."""
    drawn = [
        _grid(
            layout,
            chart_id=chart_id + suffix,
            css=css,
            title=title,
            description=description,
            points=points,
            band=band,
            important_from=important_from,
            quadrant_labels=quadrant_labels,
        )
        for layout, suffix, css in (
            (WIDE_GRID, "", "chart chart-square"),
            (NARROW_GRID, NARROW_SUFFIX, "chart chart-square chart-narrow"),
        )
    ]
    return mark_safe("".join(drawn))  # noqa: S308 - every text in both is escaped


def _grid(
    layout: _GridLayout,
    *,
    chart_id,
    css,
    title,
    description,
    points,
    band,
    important_from,
    quadrant_labels,
) -> str:
    plot = layout.width - layout.left - layout.right
    size_x, size_y = layout.width, layout.top + plot + layout.bottom
    plot_left, plot_top = layout.left, layout.top
    plot_right, plot_bottom = plot_left + plot, plot_top + plot
    # Zoom to the whole points above the lowest value, so a cluster of 3.5-4.5 is not a single blob.
    values = [v for p in points for v in (p.importance, p.experience)] + [important_from]
    low = max(SCALE_MIN, math.floor(min(values))) if values else SCALE_MIN
    low = min(low, SCALE_MAX - 1)

    def x_of(value: float) -> float:
        return plot_left + (value - low) / (SCALE_MAX - low) * plot

    def y_of(value: float) -> float:
        return plot_bottom - (value - low) / (SCALE_MAX - low) * plot

    def line(css: str, x1: float, y1: float, x2: float, y2: float) -> str:
        return (
            f'<line class="{css}" x1="{_fmt(x_of(x1))}" y1="{_fmt(y_of(y1))}" '
            f'x2="{_fmt(x_of(x2))}" y2="{_fmt(y_of(y2))}"/>'
        )

    parts = [_svg_open(chart_id, size_x, size_y, title, description, css=css)]
    parts.append(f'<rect class="chart-frame" x="{plot_left}" y="{plot_top}" width="{plot}" height="{plot}"/>')
    for tick in range(low, SCALE_MAX + 1):
        parts.append(
            f'<text class="chart-tick" x="{_fmt(x_of(tick))}" y="{plot_bottom + 18}" text-anchor="middle">{tick}</text>'
        )
        parts.append(
            f'<text class="chart-tick" x="{plot_left - 10}" y="{_fmt(y_of(tick) + 4)}" text-anchor="end">{tick}</text>'
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
        "concentrate": (plot_left + 6, plot_top + 16, "start", 1),
        "keep_up": (plot_right - 6, plot_top + 16, "end", 1),
        "low_priority": (plot_left + 6, plot_bottom - 8, "start", -1),
        "possible_overkill": (plot_right - 6, plot_bottom - 8, "end", -1),
    }
    for key, (x, y, anchor, direction) in corners.items():
        if key == "low_priority" and important_from <= low:
            continue  # every point is important: the region is not on the chart
        if layout.region_wrap is None:
            parts.append(
                f'<text class="chart-quadrant" x="{x}" y="{y}" text-anchor="{anchor}">'
                f"{escape(quadrant_labels[key])}</text>"
            )
            continue
        # In the narrow layout a region's name takes up to two lines, growing away from its corner.
        lines = _wrap(quadrant_labels[key], layout.region_wrap, max_lines=2, char_width=CHAR_WIDTH_14 + 0.5)
        first = y if direction > 0 else y - layout.region_line * (len(lines) - 1)
        parts.append(_text_lines("chart-quadrant", x, first, lines, line_height=layout.region_line, anchor=anchor))
    for point in points:
        x, y = x_of(point.experience), y_of(point.importance)
        parts.append(f'<circle class="series-experience circle" cx="{_fmt(x)}" cy="{_fmt(y)}" r="{layout.radius}"/>')
        parts.append(
            f'<text class="chart-point-label" x="{_fmt(x)}" y="{_fmt(y + layout.point_dy)}" text-anchor="middle">'
            f"{point.number}</text>"
        )
    # The axes' names: centred on the chart (wide), or on the plot, which the narrow layout moves off centre.
    wide = layout.region_wrap is None
    axis_x = size_x / 2 if wide else (plot_left + plot_right) / 2
    axis_y = size_y / 2 if wide else (plot_top + plot_bottom) / 2
    parts.append(
        f'<text class="chart-axis" x="{axis_x}" y="{size_y - 8}" text-anchor="middle">'
        f"{escape(quadrant_labels['x_axis'])}</text>"
    )
    parts.append(
        f'<text class="chart-axis" x="14" y="{axis_y}" text-anchor="middle" '
        f'transform="rotate(-90 14 {axis_y})">{escape(quadrant_labels["y_axis"])}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
