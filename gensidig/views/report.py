"""The team report of a closed round: overview, and one page per theme."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import translation

from gensidig.services import report_charts
from gensidig.services.reports import ReportGone, build_report, comments_for
from gensidig.services.rounds import close_round

from .scoping import get_round_for_user


def _closed_report(request, public_id: str):
    round_ = get_round_for_user(request, public_id)
    if round_.is_due_to_close():
        round_ = close_round(round_=round_)
    if not round_.is_closed:
        # Nothing about answers is shown before the round closes (rule 5).
        raise Http404
    try:
        return build_report(round_=round_, language=translation.get_language())
    except ReportGone:
        raise _Gone(round_) from None


class _Gone(Exception):
    def __init__(self, round_):
        self.round = round_


def _gone(request, round_):
    return render(request, "gensidig/report/gone.html", {"round": round_}, status=410)


@login_required
def overview(request, public_id: str):
    try:
        report = _closed_report(request, public_id)
    except _Gone as gone:
        return _gone(request, gone.round)
    return render(
        request,
        "gensidig/report/overview.html",
        {
            "report": report,
            "round": report.round,
            "overview_chart": report_charts.overview_chart(report),
            "grid_chart": report_charts.grid_chart(report),
            "mirror_chart": report_charts.mirror_overview_chart(report),
            "needs_series": report_charts.needs_series(),
            "mirror_series": report_charts.mirror_series(),
            "quadrant_labels": report_charts.quadrant_labels(),
        },
    )


@login_required
def theme(request, public_id: str, theme_key: str):
    try:
        report = _closed_report(request, public_id)
    except _Gone as gone:
        return _gone(request, gone.round)
    theme_report = report.theme(theme_key)
    if theme_report is None:
        raise Http404
    return render(
        request,
        "gensidig/report/theme.html",
        {
            "report": report,
            "round": report.round,
            "theme": theme_report,
            "needs_chart": report_charts.theme_needs_chart(theme_report),
            "mirror_chart": report_charts.theme_mirror_chart(theme_report),
            "needs_series": report_charts.needs_series(),
            "mirror_series": report_charts.mirror_series(),
            "comments": comments_for(report=report, theme_key=theme_key),
        },
    )
