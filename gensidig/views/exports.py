"""Downloads of a closed round: the report and the meeting guide as PDF, the figures as XLSX and CSV.

The chief downloads under /rounds/, the same as their report; once the chief shares the report, the
round's leaders download the team's report and figures under /team/. No export holds a comment
(DESIGN.md 2.4), and none is kept by a browser or a proxy. The PDFs are made on the first download
and kept in the database for the next one (services/results/rendered.py).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation

from gensidig.models import AuditAction
from gensidig.services import exports as export_service
from gensidig.services import report_charts
from gensidig.services.guide import build_guide, settings_for
from gensidig.services.pdf import html_to_pdf, pdf_chart
from gensidig.services.reports import ReportGone, build_report
from gensidig.services.results import rendered
from gensidig.services.results.trends import trend_for

from . import report as report_views
from .audiences import GUIDE
from .auditing import audited
from .scoping import get_shared_round_for_leader

PDF, XLSX, CSV = "application/pdf", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "text/csv"


def _download(content: bytes, *, content_type: str, round_, what: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    filename = export_service.filename(round_=round_, what=what)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _not_kept(response)


def _not_kept(response: HttpResponse) -> HttpResponse:
    # A report on named leaders must not stay in a shared PC's cache or a proxy.
    response["Cache-Control"] = "no-store, private"
    return response


def _gone(request, round_) -> HttpResponse:
    return _not_kept(report_views.gone(request, round_))


def _report_pdf(request, round_, audience: str) -> HttpResponse:
    # A round's PDF is made once and kept (services/results/rendered.py): WeasyPrint's seconds are
    # paid by the first download only. Access was checked before this (the round came from scoping).
    language = translation.get_language()
    try:
        content = rendered.kept(
            round_=round_,
            name=rendered.name_of("pdf", audience, "report", language),
            make=lambda: _make_report_pdf(round_, audience, language),
        )
    except ReportGone:
        return _gone(request, round_)
    return _download(content, content_type=PDF, round_=round_, what="report.pdf")


def _make_report_pdf(round_, audience: str, language: str) -> bytes:
    report = build_report(round_=round_, language=language)
    context = {
        **report_views.report_context(round_, audience),
        "pdf": True,
        "report": report,
        "overview_chart": pdf_chart(report_charts.overview_chart(report)),
        "grid_chart": pdf_chart(report_charts.grid_chart(report)),
        "mirror_overview_chart": pdf_chart(report_charts.mirror_overview_chart(report)),
        "quadrant_labels": report_charts.quadrant_labels(),
        "theme_pages": [
            {
                "theme": theme,
                "needs_chart": pdf_chart(report_charts.theme_needs_chart(theme)),
                "mirror_chart": pdf_chart(report_charts.theme_mirror_chart(theme)),
            }
            for theme in report.themes
        ],
    }
    return _pdf(render_to_string("gensidig/pdf/report.html", context))


def _figures(request, round_, kind: str, audience: str = report_views.CHIEF) -> HttpResponse:
    try:
        report = build_report(round_=round_, language=translation.get_language())
    except ReportGone:
        return _gone(request, round_)
    trend = trend_for(round_, shared_only=audience == report_views.TEAM)
    if kind == "xlsx":
        return _download(
            export_service.figures_xlsx(report=report, trend=trend),
            content_type=XLSX,
            round_=round_,
            what="figures.xlsx",
        )
    content = export_service.figures_csv(report=report, trend=trend).encode("utf-8")
    return _download(content, content_type=f"{CSV}; charset=utf-8", round_=round_, what="figures.csv")


def _pdf(html: str) -> bytes:
    # Links in the PDF (to a theme's web page, say) point at the site; nothing is fetched from it.
    return html_to_pdf(html=html, base_url=settings.SITE_URL + "/")


@login_required
@audited(AuditAction.EXPORTED, file="report.pdf")
def report_pdf(request, public_id: str):
    return _report_pdf(request, report_views.chief_round(request, public_id), report_views.CHIEF)


@login_required
@audited(AuditAction.EXPORTED, file="figures.xlsx")
def figures_xlsx(request, public_id: str):
    return _figures(request, report_views.chief_round(request, public_id), "xlsx")


@login_required
@audited(AuditAction.EXPORTED, file="figures.csv")
def figures_csv(request, public_id: str):
    return _figures(request, report_views.chief_round(request, public_id), "csv")


@login_required
@audited(AuditAction.EXPORTED, file="guide.pdf")
def guide_pdf(request, public_id: str):
    round_ = report_views.chief_round(request, public_id)
    language = translation.get_language()
    # The chief's choices are part of the name, besides retiring the kept guide when they change.
    chosen = settings_for(round_)
    name = rendered.name_of("pdf", GUIDE, "guide", language, chosen.format, ",".join(chosen.focus_theme_keys))
    try:
        content = rendered.kept(round_=round_, name=name, make=lambda: _make_guide_pdf(round_, language))
    except ReportGone:
        return _gone(request, round_)
    return _download(content, content_type=PDF, round_=round_, what="guide.pdf")


def _make_guide_pdf(round_, language: str) -> bytes:
    guide = build_guide(round_=round_, language=language)
    context = {
        "pdf": True,
        "round": round_,
        "guide": guide,
        "charts": {
            theme.report.key: pdf_chart(report_charts.theme_needs_chart(theme.report)) for theme in guide.themes
        },
        "needs_series": report_charts.needs_series(),
        "trend": guide.trend,
    }
    return _pdf(render_to_string("gensidig/pdf/guide.html", context))


@login_required
@audited(AuditAction.EXPORTED, file="report.pdf", audience="team")
def team_report_pdf(request, public_id: str):
    return _report_pdf(request, get_shared_round_for_leader(request, public_id), report_views.TEAM)


@login_required
@audited(AuditAction.EXPORTED, file="figures.xlsx", audience="team")
def team_figures_xlsx(request, public_id: str):
    return _figures(request, get_shared_round_for_leader(request, public_id), "xlsx", report_views.TEAM)


@login_required
@audited(AuditAction.EXPORTED, file="figures.csv", audience="team")
def team_figures_csv(request, public_id: str):
    return _figures(request, get_shared_round_for_leader(request, public_id), "csv", report_views.TEAM)
