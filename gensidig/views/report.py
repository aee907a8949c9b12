"""The team report of a closed round: overview, and one page per theme.

The chief reads it under /rounds/; once the chief shares it, the round's leaders read the same
figures under /team/ (without the comments, and without the chief's tools).
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import translation

from gensidig.models import AuditAction
from gensidig.services import report_charts
from gensidig.services.agreements import agreements_by_theme, earlier_agreements
from gensidig.services.reports import ReportGone, build_report, comments_for
from gensidig.services.results import rendered
from gensidig.services.results.trends import course_for
from gensidig.services.survey.closing import TallyError, close_round

from .audiences import CHIEF, TEAM, export_links
from .auditing import audited
from .scoping import get_round_for_user, get_shared_round_for_leader


def chief_round(request, public_id: str):
    """A closed round of the user's own team: the start of the report, the guide and the exports.

    A round past its closing time closes here, so the chief never waits for the scheduler.
    """
    round_ = get_round_for_user(request, public_id)
    if round_.is_due_to_close():
        try:
            round_ = close_round(round_=round_)
        except TallyError:
            # It stays open, ballots kept; the round page says why (services.survey.closing logs it).
            raise Http404 from None
    if not round_.is_closed:
        # Nothing about answers is shown before the round closes (rule 5).
        raise Http404
    return round_


def gone(request, round_):
    """The page of a round whose answers were deleted at the end of the retention period."""
    return render(request, "gensidig/report/gone.html", {"round": round_}, status=410)


def report_context(round_, audience: str) -> dict:
    # The team sees earlier rounds only where the chief shared them too.
    course = course_for(round_, shared_only=audience == TEAM)
    trend = course.trend()
    return {
        "round": round_,
        "audience": audience,
        "theme_url": "gensidig:report-theme" if audience == CHIEF else "gensidig:team-report-theme",
        "overview_url": "gensidig:report" if audience == CHIEF else "gensidig:team-report",
        "trend": trend,
        "course": course,
        "agreements": agreements_by_theme(round_),
        "earlier_agreements": earlier_agreements(round_, previous=trend.previous) if trend.previous else {},
        "needs_series": report_charts.needs_series(),
        "mirror_series": report_charts.mirror_series(),
        "exports": export_links(audience),
    }


def _overview(request, round_, audience: str):
    # What comes from the round's figures is rendered on the first view and kept (rendered.py);
    # the toolbar's form and the page around it are the reader's own, rendered every time.
    language = translation.get_language()
    try:
        parts = rendered.kept_parts(
            round_=round_,
            name=rendered.name_of("page", audience, "overview", language),
            make=lambda: _overview_parts(round_, audience, language),
        )
    except ReportGone:
        return gone(request, round_)
    context = {"round": round_, "audience": audience, "exports": export_links(audience), "rendered": parts}
    return render(request, "gensidig/report/overview.html", context)


def _overview_parts(round_, audience: str, language: str) -> dict:
    report = build_report(round_=round_, language=language)
    context = {
        **report_context(round_, audience),
        "report": report,
        "overview_chart": report_charts.overview_chart(report),
        "grid_chart": report_charts.grid_chart(report),
        "mirror_chart": report_charts.mirror_overview_chart(report),
        "quadrant_labels": report_charts.quadrant_labels(),
    }
    return rendered.render_parts("gensidig/report/overview.html", ("title", "top", "body"), context)


def _theme(request, round_, theme_key: str, audience: str):
    language = translation.get_language()
    try:
        parts = rendered.kept_parts(
            round_=round_,
            name=rendered.name_of("page", audience, "theme", theme_key, language),
            make=lambda: _theme_parts(round_, theme_key, audience, language),
        )
    except ReportGone:
        return gone(request, round_)
    context = {
        "round": round_,
        "audience": audience,
        "rendered": parts,
        # Comments stay with the chief: shared with the team, a sentence is easier to trace. They
        # are never kept: read and shuffled on every view.
        "comments": comments_for(round_=round_, theme_key=theme_key, shown=parts["comments_shown"])
        if audience == CHIEF
        else [],
    }
    return render(request, "gensidig/report/theme.html", context)


def _theme_parts(round_, theme_key: str, audience: str, language: str) -> dict:
    report = build_report(round_=round_, language=language)
    theme_report = report.theme(theme_key)
    if theme_report is None:
        raise Http404
    context = report_context(round_, audience)
    context.update(
        {
            "course_chart": report_charts.course_chart(theme_report, context["course"]),
            "report": report,
            "theme": theme_report,
            "needs_chart": report_charts.theme_needs_chart(theme_report),
            "mirror_chart": report_charts.theme_mirror_chart(theme_report),
            "course_series": report_charts.course_series(),
        }
    )
    parts = rendered.render_parts("gensidig/report/theme.html", ("title", "body", "after"), context)
    return {**parts, "comments_shown": report.summary.comments_shown, "comments_k": report.comments_k}


@login_required
@audited(AuditAction.REPORT_VIEWED)
def overview(request, public_id: str):
    return _overview(request, chief_round(request, public_id), CHIEF)


@login_required
@audited(AuditAction.REPORT_VIEWED)
def theme(request, public_id: str, theme_key: str):
    return _theme(request, chief_round(request, public_id), theme_key, CHIEF)


@login_required
@audited(AuditAction.REPORT_VIEWED, audience="team")
def team_overview(request, public_id: str):
    return _overview(request, get_shared_round_for_leader(request, public_id), TEAM)


@login_required
@audited(AuditAction.REPORT_VIEWED, audience="team")
def team_theme(request, public_id: str, theme_key: str):
    return _theme(request, get_shared_round_for_leader(request, public_id), theme_key, TEAM)
