"""The report's charts, with their words in the reader's language.

Shared by the report pages and, later, the PDF export, so both draw the same thing.
"""

from __future__ import annotations

from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from gensidig.models.choices import Withheld
from gensidig.services import charts
from gensidig.services.reports import Report, ThemeReport
from gensidig.services.results import statistics as st


def needs_series() -> list[charts.Series]:
    return [
        charts.Series("importance", _("Leaders: importance"), "circle-open"),
        charts.Series("experience", _("Leaders: experience"), "circle"),
        charts.Series("chief", _("Chief: self-assessment"), "diamond"),
    ]


def mirror_series() -> list[charts.Series]:
    return [
        charts.Series("chief-importance", _("Chief: importance"), "square-open"),
        charts.Series("chief-fulfilment", _("Chief: how well it is met"), "diamond"),
        charts.Series("leaders-fulfilment", _("Leaders: self-assessment"), "circle"),
    ]


def too_few() -> str:
    return _("Too few answers to show")


def withheld_note(figure) -> str:
    """Why a leaders' figure (or a theme's: anything with `withheld_because`) is not shown, in the
    words of the report's tables."""
    if figure.withheld_because == Withheld.PATTERN:
        return _("Not shown, to protect a smaller group")
    if figure.withheld_because == Withheld.HISTORY:
        return _("Not shown, as the team changed little")
    return too_few()


def overview_chart(report: Report) -> SafeString:
    rows = []
    for theme in report.themes:
        stat = theme.stat
        withheld = stat.importance is None
        rows.append(
            charts.DotRow(
                label=theme.title,
                values={"importance": stat.importance, "experience": stat.experience, "chief": stat.chief_self},
                note=withheld_note(theme) if withheld else "",
                flagged=theme.strong_disagreement,
            )
        )
    return charts.dot_plot(
        chart_id="chart-overview",
        title=_("The six themes: importance and experience among leaders, and the chief's self-assessment"),
        description=_(
            "For each theme, on a scale from 1 to 5: an open circle for how important leaders find it, a filled "
            "circle for how much they experience it, joined by a line that is the gap, and a diamond for the "
            "chief's own assessment. The table after the chart gives the same numbers."
        ),
        rows=rows,
        series=needs_series(),
        connect=("importance", "experience"),
    )


def theme_needs_chart(theme: ThemeReport) -> SafeString:
    rows = [
        charts.DotRow(
            label=need.title,
            values={
                "importance": need.importance.mean,
                "experience": need.experience.mean,
                "chief": need.chief_self,
            },
            note=withheld_note(need.experience) if need.importance.withheld and need.experience.withheld else "",
            flagged=need.strong_disagreement,
        )
        for need in theme.needs
    ]
    return charts.dot_plot(
        chart_id=f"chart-needs-{theme.key}",
        title=_("%(theme)s: what leaders need from the chief") % {"theme": theme.title},
        description=_(
            "For each need, on a scale from 1 to 5: leaders' importance (open circle), leaders' experience "
            "(filled circle) and the chief's self-assessment (diamond). The table after the chart gives the numbers."
        ),
        rows=rows,
        series=needs_series(),
        connect=("importance", "experience"),
    )


def theme_mirror_chart(theme: ThemeReport) -> SafeString:
    rows = [
        charts.DotRow(
            label=exp.title,
            values={
                "chief-importance": exp.chief_importance,
                "chief-fulfilment": exp.chief_fulfilment,
                "leaders-fulfilment": exp.leaders_fulfilment.mean,
            },
        )
        for exp in theme.expectations
    ]
    return charts.dot_plot(
        chart_id=f"chart-mirror-{theme.key}",
        title=_("%(theme)s: the chief's expectations of the leaders") % {"theme": theme.title},
        description=_(
            "For each expectation, on a scale from 1 to 5: how important it is to the chief (open square), how "
            "well the chief finds it met (diamond), and how well leaders find they live up to it (filled circle). "
            "The table after the chart gives the numbers."
        ),
        rows=rows,
        series=mirror_series(),
        connect=("chief-fulfilment", "leaders-fulfilment"),
    )


def mirror_overview_chart(report: Report) -> SafeString:
    rows = [
        charts.DotRow(
            label=theme.title,
            values={
                "chief-importance": theme.stat.chief_importance,
                "chief-fulfilment": theme.stat.chief_fulfilment,
                "leaders-fulfilment": theme.stat.leaders_fulfilment,
            },
        )
        for theme in report.themes
    ]
    return charts.dot_plot(
        chart_id="chart-mirror",
        title=_("The mirror: the chief's expectations of the leaders, theme by theme"),
        description=_(
            "For each theme, on a scale from 1 to 5: how important the chief's expectations are to the chief "
            "(open square), how well the chief finds them met (diamond), and how well leaders find they live up "
            "to them (filled circle). The table after the chart gives the numbers."
        ),
        rows=rows,
        series=mirror_series(),
        connect=("chief-fulfilment", "leaders-fulfilment"),
    )


def quadrant_labels() -> dict[str, str]:
    return {
        "concentrate": _("Concentrate here"),
        "keep_up": _("Keep it up"),
        "low_priority": _("Lower priority"),
        "possible_overkill": _("Possibly over-served"),
        "x_axis": _("Experience"),
        "y_axis": _("Importance"),
    }


def grid_chart(report: Report) -> SafeString | None:
    points = report.grid_points()
    if not points:
        return None
    return charts.importance_performance_grid(
        chart_id="chart-grid",
        title=_("Importance–performance grid of the chief's behaviours"),
        description=_(
            "Each numbered dot is one of the needs, placed by how much leaders experience it (across) and how "
            "important they find it (up). The solid diagonal is where experience equals importance; the dashed "
            "lines half a point either side of it mark what counts as a match, and the line at importance 3.5 "
            "separates what leaders find important. The table after the chart lists every dot."
        ),
        points=[charts.GridPoint(p.number, p.importance, p.experience) for p in points],
        band=st.GRID_BAND,
        important_from=st.IMPORTANT_FROM,
        quadrant_labels=quadrant_labels(),
    )


def course_series() -> list[charts.Series]:
    return needs_series()[:2]  # the leaders' importance and experience


def course_chart(theme: ThemeReport, course) -> SafeString | None:
    """A theme's course over every round of the team with figures: a row per round, importance and
    experience joined by the gap, as the report's other charts draw them."""
    if course is None or not course.earlier:
        return None
    rows = []
    for row in course.theme_rows(theme.key):
        label = _("Round %(number)s (%(date)s)") % {
            "number": row["round"].number,
            "date": date_format(row["round"].closed_on, "F Y") if row["round"].closed_on else "",
        }
        shown = row["experience"] is not None
        rows.append(
            charts.DotRow(
                label=label,
                values={"importance": row["importance"], "experience": row["experience"]} if shown else {},
                note="" if shown else _("Not shown"),
            )
        )
    return charts.dot_plot(
        chart_id=f"chart-course-{theme.key}",
        title=_("%(theme)s over the rounds") % {"theme": theme.title},
        description=_(
            "For each round of the team that still has figures, on a scale from 1 to 5: the leaders' importance "
            "(open circle) and experience (filled circle), joined by a line that is the gap. The table after "
            "the chart gives the numbers."
        ),
        rows=rows,
        series=course_series(),
        connect=("importance", "experience"),
        label_width=200,
    )
