"""A closed round's figures as rows for a spreadsheet: XLSX and CSV.

The rows hold what the report shows and nothing else. They are read from a `Report`, which holds
only the figures stored at close, so a figure the anonymity rules withhold has no number to leak:
it is written as the report's "Too few answers to show", and what would be derived from it (a gap,
a spread, a difference, a distribution) is left out. Numbers have one decimal, as the report shows
them, a count of answers (n) appears only where the report shows its distribution (which adds up to
n), and comments are never part of an export (DESIGN.md 2.4).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.utils.formats import date_format, get_format
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gensidig.formatting import one_decimal
from gensidig.models.choices import Precision
from gensidig.services.report_charts import too_few, withheld_note
from gensidig.services.reports import Figure, Report, ThemeReport
from gensidig.services.results.trends import Trend, trend_for

BOM = "\ufeff"  # Excel reads a CSV as UTF-8 only when it starts with one


@dataclass(frozen=True)
class FigureRow:
    """One published figure: a number on one decimal, a count, or the withheld note (a str)."""

    theme: str
    item: str
    side: str
    measure: str
    value: float | int | str
    n: int | None = None
    change: float | None = None


def filename(*, round_, what: str) -> str:
    """gensidig-<team>-round-<n>-<what>, in ASCII so every browser keeps it."""
    return f"gensidig-{slugify(round_.team.slug) or 'team'}-round-{round_.number}-{what}"


def figure_rows(*, report: Report, trend: Trend | None = None) -> list[FigureRow]:
    """Every figure the report shows, theme by theme: the theme as a whole, then its needs, then
    the chief's expectations; changes since the previous round where both rounds showed the figure."""
    trend = trend if trend is not None else trend_for(report.round)
    return [row for theme in report.themes for row in _theme_rows(theme, trend)]


def _theme_rows(theme: ThemeReport, trend: Trend) -> list[FigureRow]:
    leaders, chief = _("Leaders"), _("Chief")
    gap, difference = _("Gap (importance − experience)"), _("Difference (leaders − chief)")
    chief_importance, chief_fulfilment = _("Importance of expectations"), _("How well expectations are met")
    self_assessment, leaders_fulfilment = _("Self-assessment"), _("Self-assessment on expectations")
    rows: list[FigureRow] = []

    def add(item: str, side: str, measure: str, value, n: int | None = None, change: float | None = None) -> None:
        if value is not None:  # a chief's "don't know", or a difference without both sides
            rows.append(FigureRow(theme.title, item, side, measure, value, n, change))

    def theme_change(measure: str) -> float | None:
        return _signed(trend.theme(theme.key, measure)) if trend.previous else None

    stat, whole = theme.stat, _("The theme as a whole")
    shown = stat.importance is not None
    add(
        whole, leaders, _("Importance"), _one(stat.importance) if shown else too_few(), None, theme_change("importance")
    )
    add(
        whole, leaders, _("Experience"), _one(stat.experience) if shown else too_few(), None, theme_change("experience")
    )
    add(whole, leaders, gap, _signed(stat.gap), None, theme_change("gap"))
    add(whole, chief, self_assessment, _one(stat.chief_self))
    add(whole, chief, chief_importance, _one(stat.chief_importance))
    add(whole, chief, chief_fulfilment, _one(stat.chief_fulfilment))
    fulfilment = _one(stat.leaders_fulfilment) if stat.leaders_fulfilment is not None else too_few()
    add(whole, leaders, leaders_fulfilment, fulfilment, None, theme_change("leaders_fulfilment"))
    add(whole, leaders, difference, _signed(stat.mirror_gap))

    for need in theme.needs:
        add(
            need.title,
            leaders,
            _measure(_("Importance"), need.importance),
            *_figure(need.importance, trend, need.key, "importance"),
        )
        add(
            need.title,
            leaders,
            _measure(_("Experience"), need.experience),
            *_figure(need.experience, trend, need.key, "experience"),
        )
        add(need.title, leaders, gap, _signed(need.gap))
        if not need.experience.withheld:
            add(need.title, leaders, _("Spread of experience (standard deviation)"), _one(need.experience.sd))
        for figure, scale in ((need.importance, _("Importance")), (need.experience, _("Experience"))):
            for answers, count in _distribution(figure):
                measure = _("%(measure)s: how many answered %(answers)s") % {"measure": scale, "answers": answers}
                add(need.title, leaders, measure, count)
        add(need.title, chief, self_assessment, _one(need.chief_self))

    for exp in theme.expectations:
        add(exp.title, chief, chief_importance, _one(exp.chief_importance))
        add(exp.title, chief, chief_fulfilment, _one(exp.chief_fulfilment))
        add(
            exp.title,
            leaders,
            _measure(leaders_fulfilment, exp.leaders_fulfilment),
            *_figure(exp.leaders_fulfilment, trend, exp.key, "fulfilment"),
        )
        add(exp.title, leaders, difference, _signed(exp.mirror_gap))
    return rows


def _measure(measure: str, figure: Figure) -> str:
    """The measure's name, and how exactly it is shown where that is less than to a tenth."""
    if not figure.approximate:
        return measure
    return _("%(measure)s, %(precision)s") % {"measure": measure, "precision": Precision(figure.precision).label}


def _figure(figure: Figure, trend: Trend, key: str, scale: str) -> tuple:
    """(value, n, change) of a leaders' mean: the note if withheld, n only beside a distribution."""
    if figure.withheld:
        return withheld_note(figure), None, None
    change = _signed(trend.item(key, scale)) if trend.previous else None
    return _one(figure.mean), figure.n if figure.distribution else None, change


def _distribution(figure: Figure) -> list[tuple[str, int]]:
    """The groups the report shows (rule 3): none below 5 answers, three from 5, the full scale from 8."""
    if figure.withheld or not figure.distribution:
        return []
    counts = figure.distribution["counts"]
    if figure.distribution["kind"] == "grouped":
        return list(zip(("1–2", "3", "4–5"), counts, strict=True))
    return [(str(value), count) for value, count in enumerate(counts, start=1)]


def _one(value: float | None) -> float | None:
    """A mean as the report shows it: one decimal, rounded half up."""
    if value is None:
        return None
    return float(one_decimal(value))


def _signed(value: float | None) -> float | None:
    """A difference as the report's `signed` filter shows it."""
    if value is None:
        return None
    return float(one_decimal(value)) + 0.0  # + 0.0 turns a rounded -0.0 into 0.0


def headers(*, trend: Trend) -> list[str]:
    columns = [_("Theme"), _("Item"), _("Side"), _("Measure"), _("Value"), _("Answers (n)")]
    if trend.previous:
        columns.append(_("Change since round %(number)s") % {"number": trend.previous.number})
    return columns


def about(*, report: Report) -> list[tuple[str, str]]:
    """What the figures are of, and what is left out and why: for the XLSX's second sheet."""
    round_, summary = report.round, report.summary
    withheld = ngettext(
        "A leaders' figure is shown only where at least %(k)d leader answered the question; where fewer "
        "did, it says “%(note)s”, and the gap, spread, difference and distribution that would rest on it "
        "are left out.",
        "A leaders' figure is shown only where at least %(k)d leaders answered the question; where fewer "
        "did, it says “%(note)s”, and the gap, spread, difference and distribution that would rest on it "
        "are left out.",
        report.k,
    ) % {"k": report.k, "note": too_few()}
    rules = _(
        "Distributions are shown from 5 answers, in three groups up to 7 and the full scale from 8. Where "
        "the spread or the groups, together with the average, would tell both the lowest and the highest "
        "answer anyone gave, they are left out. Comments are never part of an export."
    )
    rows = [
        (_("Team"), round_.team.name),
        (_("Round"), str(round_.number)),
        (_("Closed"), date_format(round_.closed_on, "j. F Y") if round_.closed_on else ""),
        (
            _("Leaders who answered"),
            _("%(answered)s of %(invited)s")
            % {"answered": summary.leader_responses, "invited": round_.leaders_invited},
        ),
        (_("Anonymity threshold"), str(report.k)),
        (_("What is left out"), f"{withheld} {rules}"),
    ]
    if summary.coarsened or summary.hidden_for_history:
        rows.append(
            (
                _("Shown less exactly"),
                _(
                    "Only %(n)s leaders differ between this round and an earlier one whose figures are still "
                    "shown; so that the two cannot be subtracted to reveal their answers, %(coarse)s figures are "
                    "shown to the nearest half or whole point (the measure says which) and %(hidden)s are not "
                    "shown. Changes since the earlier round are worked out from the figures as shown."
                )
                % {
                    "n": summary.changed_leaders,
                    "coarse": summary.coarsened,
                    "hidden": summary.hidden_for_history,
                },
            )
        )
    if summary.hidden_to_protect_others:
        rows.append(
            (
                _("Hidden to protect a smaller team"),
                ngettext(
                    "%(n)d figure is left out although enough leaders answered it, so that no figure of a "
                    "smaller team in the campaign can be worked out from a roll-up.",
                    "%(n)d figures are left out although enough leaders answered them, so that no figure of a "
                    "smaller team in the campaign can be worked out from a roll-up.",
                    summary.hidden_to_protect_others,
                )
                % {"n": summary.hidden_to_protect_others},
            )
        )
    return rows


def figures_csv(*, report: Report, trend: Trend | None = None) -> str:
    """The figures as CSV text, starting with a byte-order mark: `;` and a decimal comma where the
    language writes decimals with a comma (Danish), else `,` and a point."""
    trend = trend if trend is not None else trend_for(report.round)
    decimal = get_format("DECIMAL_SEPARATOR")
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=";" if decimal == "," else ",")
    columns = headers(trend=trend)
    writer.writerow(columns)
    for row in figure_rows(report=report, trend=trend):
        cells = [row.theme, row.item, row.side, row.measure, row.value, row.n, row.change][: len(columns)]
        writer.writerow([_csv_cell(cell, decimal) for cell in cells])
    return out.getvalue()


def _csv_cell(value, decimal: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", decimal)
    return str(value)


def figures_xlsx(*, report: Report, trend: Trend | None = None) -> bytes:
    """The figures as an Excel workbook: a sheet of figures (bold, frozen header; numbers with one
    decimal) and a sheet "About" with the round and what is left out."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    trend = trend if trend is not None else trend_for(report.round)
    round_ = report.round
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Figures")
    columns = headers(trend=trend)
    _append(sheet, columns)
    for row in figure_rows(report=report, trend=trend):
        _append(sheet, [row.theme, row.item, row.side, row.measure, row.value, row.n, row.change][: len(columns)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for column, width in zip("ABCDEFG", (34, 44, 10, 44, 22, 12, 18), strict=True):
        sheet.column_dimensions[column].width = width

    info = workbook.create_sheet(_("About"))
    for label, value in about(report=report):
        _append(info, [label, value])
    for (cell,) in info.iter_rows(min_col=1, max_col=1):
        cell.font = Font(bold=True)
        cell.alignment = Alignment(vertical="top")
    for (cell,) in info.iter_rows(min_col=2, max_col=2):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    info.column_dimensions["A"].width = 30
    info.column_dimensions["B"].width = 90

    workbook.properties.title = _("Figures: %(team)s, round %(number)s") % {
        "team": round_.team.name,
        "number": round_.number,
    }
    workbook.properties.creator = "Gensidig"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _append(sheet, values: list) -> None:
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"  # text stays text: a team named "=..." is not a formula
        elif isinstance(cell.value, float):
            cell.number_format = "0.0"  # one decimal, as the report; Excel shows the reader's comma
