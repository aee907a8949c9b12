"""The figures as rows, XLSX and CSV, and the PDF machinery: what the report shows, and nothing else."""

import csv
import io
import os
import re
import socket
import subprocess
import sys

import openpyxl
import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from gensidig.models.choices import Role
from gensidig.services import exports, pdf
from gensidig.services.reports import build_report
from gensidig.services.results.trends import trend_for
from gensidig.services.survey.closing import close_round
from gensidig.templatetags.gensidig_tags import score, signed

from ..factories import answer, answers_for, closed_round, leader_links, make_team, start_round

pytestmark = pytest.mark.django_db


def leader_value(key, scale):
    # As in the report's tests: importance high, experience low on strategic direction.
    if scale == "importance":
        return 5
    return 2 if key.startswith("direction.") else 4


def report_of(round_, language="da"):
    with translation.override(language):
        return build_report(round_=round_, language=language)


def rows_by_key(rows, theme):
    """One theme's rows by (item, side, measure)."""
    return {(row.item, row.side, row.measure): row for row in rows if row.theme == theme.title}


@pytest.fixture
def closed(team):
    return closed_round(team, answering=6, value=leader_value, chief_value=4, comments={"direction": "Kun til chefen"})


def test_the_rows_hold_the_reports_figures_for_each_need_and_expectation(closed):
    report = report_of(closed)
    with translation.override("da"):
        direction = report.theme("direction")
        all_rows = exports.figure_rows(report=report)
        rows = rows_by_key(all_rows, direction)
        leaders, chief = _("Leaders"), _("Chief")
        for need in direction.needs:
            assert rows[(need.title, leaders, _("Importance"))].value == need.importance.mean == 5.0
            assert rows[(need.title, leaders, _("Experience"))].value == need.experience.mean == 2.0
            assert rows[(need.title, leaders, _("Gap (importance − experience)"))].value == 3.0
            # Six leaders all answered 2: a spread of 0,0 or the groups would tell that nobody answered 1,
            # where the mean alone leaves it open, so the mean is shown alone (DESIGN.md 2.3), here too.
            assert need.experience.sd is None and need.experience.distribution is None
            assert (need.title, leaders, _("Spread of experience (standard deviation)")) not in rows
            assert rows[(need.title, chief, _("Self-assessment"))].value == need.chief_self == 4.0
            # Six answers of 5: the mean alone says all of it, so the groups may be shown; they add up
            # to n, so n is shown too.
            assert rows[(need.title, leaders, _("Importance"))].n == 6
            assert rows[(need.title, leaders, _("Experience"))].n is None
            groups = [
                rows[
                    (
                        need.title,
                        leaders,
                        _("%(measure)s: how many answered %(answers)s") % {"measure": m, "answers": a},
                    )
                ]
                for m in (_("Importance"),)
                for a in ("1–2", "3", "4–5")
            ]
            assert [g.value for g in groups] == [0, 0, 6]
            assert not [key for key in rows if key[0] == need.title and key[2].startswith(_("Experience") + ":")]
        for exp in direction.expectations:
            assert rows[(exp.title, leaders, _("Self-assessment on expectations"))].value == exp.leaders_fulfilment.mean
            assert rows[(exp.title, chief, _("How well expectations are met"))].value == exp.chief_fulfilment == 4.0
        whole = _("The theme as a whole")
        assert rows[(whole, leaders, _("Gap (importance − experience)"))].value == direction.stat.gap == 3.0
    assert {row.change for row in all_rows} == {None}  # a first round has nothing to compare with


def test_every_exported_number_is_the_number_the_report_shows():
    # Uneven answers, so that the means have more decimals than the report shows.
    team = make_team(leaders=8)
    round_, links = start_round(team)
    for index, link in enumerate(leader_links(links)[:7]):
        answer(link, answers_for(round_, Role.LEADER, lambda key, scale, i=index: 1 + (i + len(key)) % 5))
    round_ = close_round(round_=round_)
    report = report_of(round_)
    shown = set()
    with translation.override("da"):  # the report's numbers as the Danish page writes them (decimal comma)
        for theme in report.themes:
            for need in theme.needs:
                shown |= {score(need.importance.mean), score(need.experience.mean)}
                if need.experience.sd is not None:
                    shown.add(score(need.experience.sd))
                shown.add(signed(need.gap))
            shown |= {score(theme.stat.importance), score(theme.stat.experience), signed(theme.stat.gap)}
            shown |= {score(e.leaders_fulfilment.mean) for e in theme.expectations}
            shown.add(score(theme.stat.leaders_fulfilment))
        text = exports.figures_csv(report=report)
    shown = {text.replace("−", "-").replace("+", "") for text in shown}
    numbers = {cell for line in csv.reader(io.StringIO(text), delimiter=";") for cell in line[4:5] if "," in cell}
    assert numbers and numbers <= shown, numbers - shown
    assert any(not number.endswith(",0") for number in numbers)  # the test does reach fractions


def test_under_the_threshold_no_leaders_figure_is_exported():
    team = make_team(leaders=8)
    round_ = closed_round(team, answering=3, value=5, chief_value=1, comments={"direction": "Må ikke med"})
    report = report_of(round_)
    with translation.override("da"):
        rows = exports.figure_rows(report=report)
        note = _("Too few answers to show")
        leaders = _("Leaders")
        text = exports.figures_csv(report=report)
        workbook = openpyxl.load_workbook(io.BytesIO(exports.figures_xlsx(report=report)))
    leader_rows = [row for row in rows if row.side == leaders]
    assert leader_rows and {row.value for row in leader_rows} == {note}
    assert all(row.n is None and row.change is None for row in leader_rows)
    assert {row.value for row in rows if row.side != leaders} == {1.0}  # the chief's own answers
    assert "5,0" not in text and "Må ikke med" not in text and note in text
    cells = [cell for sheet in workbook for line in sheet.iter_rows(values_only=True) for cell in line]
    assert 5 not in cells and 5.0 not in cells and "5,0" not in cells
    assert not any("Må ikke med" in str(cell) for cell in cells)


def test_a_distribution_is_exported_only_as_the_report_groups_it(team):
    report = report_of(closed_round(team, answering=8, value=4))
    with translation.override("en"):
        rows = exports.figure_rows(report=report)
    counts = [row for row in rows if "how many answered" in row.measure]
    assert counts and {row.measure.rsplit(" ", 1)[1] for row in counts} == {"1", "2", "3", "4", "5"}
    assert sum(row.value for row in counts if row.measure.startswith("Importance")) == 8 * 24  # 24 needs
    small = make_team(leaders=8, threshold=3)
    report = report_of(closed_round(small, answering=4, value=4))
    with translation.override("en"):
        rows = exports.figure_rows(report=report)
    assert not [row for row in rows if "how many answered" in row.measure]  # none below 5 answers
    assert {row.n for row in rows} == {None}  # without a distribution the report shows no n
    assert 4.0 in {row.value for row in rows if row.side == "Leaders"}  # 4 >= k = 3: the means are shown


def test_the_csv_follows_the_language_with_a_byte_order_mark(closed):
    report = report_of(closed)
    with translation.override("da"):
        danish = exports.figures_csv(report=report)
        danish_headers = exports.headers(trend=trend_for(closed))
    with translation.override("en"):
        english = exports.figures_csv(report=build_report(round_=closed, language="en"))
    assert danish.startswith(exports.BOM) and english.startswith(exports.BOM)
    rows = list(csv.reader(io.StringIO(danish.removeprefix(exports.BOM)), delimiter=";"))
    assert rows[0] == danish_headers
    assert len(rows) - 1 == len(exports.figure_rows(report=report))
    assert [rows[1][0], rows[1][2], rows[1][3], rows[1][4]] == [
        "Tydelig strategisk retning",
        "Ledere",
        "Vigtighed",
        "5,0",
    ]
    rows = list(csv.reader(io.StringIO(english.removeprefix(exports.BOM)), delimiter=","))
    assert rows[0][:4] == ["Theme", "Item", "Side", "Measure"]
    assert rows[1][4] == "5.0" and all("," not in row[4] for row in rows)


def test_the_workbook_has_a_frozen_bold_header_the_figures_and_an_about_sheet(closed):
    closed.team.name = '=HYPERLINK("http://x.example")'  # a name is never run as a formula
    closed.team.save()
    report = report_of(closed)
    with translation.override("da"):
        workbook = openpyxl.load_workbook(io.BytesIO(exports.figures_xlsx(report=report)))
        rows = exports.figure_rows(report=report)
        about = _("About")
        headers = exports.headers(trend=trend_for(closed))
        threshold_label = _("Anonymity threshold")
    figures, info = workbook.worksheets
    assert info.title == about
    assert [cell.value for cell in figures[1]] == headers
    assert all(cell.font.bold for cell in figures[1])
    assert figures.freeze_panes == "A2"
    assert figures.column_dimensions["A"].width > 20 and figures.column_dimensions["D"].width > 20
    values = [tuple(line) for line in figures.iter_rows(min_row=2, values_only=True)]
    assert values == [(r.theme, r.item, r.side, r.measure, r.value, r.n) for r in rows]
    assert figures["E2"].number_format == "0.0"
    facts = {label: value for label, value in info.iter_rows(values_only=True)}
    assert facts[threshold_label] == "5"
    assert info["B1"].value == closed.team.name and info["B1"].data_type == "s"
    assert closed.team.name in workbook.properties.title


def test_a_second_round_exports_its_change_since_the_first(team):
    closed_round(team, answering=6, value=3, chief_value=3)
    second = closed_round(team, answering=6, value=leader_value, chief_value=4)
    report = report_of(second)
    trend = trend_for(second)
    with translation.override("da"):
        headers = exports.headers(trend=trend)
        rows = rows_by_key(exports.figure_rows(report=report, trend=trend), report.theme("direction"))
        need = report.theme("direction").needs[0]
        experience = rows[(need.title, _("Leaders"), _("Experience"))]
        whole = rows[(_("The theme as a whole"), _("Leaders"), _("Experience"))]
        assert headers[-1] == _("Change since round %(number)s") % {"number": 1}
        chief_row = rows[(need.title, _("Chief"), _("Self-assessment"))]
    assert experience.change == -1.0 and trend.item(need.key, "experience") == -1.0
    assert whole.change == -1.0
    assert chief_row.value == 4.0 and chief_row.change is None  # the report has no trend of the chief's answers


def test_a_pdf_fetches_nothing_over_the_network(monkeypatch):
    tried = []

    def no_network(*args, **kwargs):
        tried.append(args)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "create_connection", no_network)
    html = (
        '<!doctype html><html lang="da"><head><title>Prøve</title>'
        '<link rel="stylesheet" href="http://127.0.0.1:9/evil.css"></head>'
        '<body><h1>Æble</h1><img src="https://example.com/pixel.png" alt="pixel">'
        '<img src="file:///etc/hostname" alt="fil"></body></html>'
    )
    document = pdf.html_to_pdf(html=html, base_url="http://127.0.0.1:9/")
    assert document.startswith(b"%PDF-") and tried == []
    with pytest.raises(ValueError, match="disallowed protocol"):
        pdf.url_fetcher().fetch("file:///etc/hostname")


def test_the_pdfs_charts_carry_the_web_stylesheets_colours():
    web = (pdf.WEB_CSS).read_text()
    series_rules = re.findall(r"^\.series-[^{]+\{[^}]*\}", web, flags=re.M)
    assert len(series_rules) >= 6
    svg = '<svg class="chart" viewBox="0 0 10 10" xmlns="http://www.w3.org/2000/svg"><title>T</title></svg>'
    styled = pdf.pdf_chart(svg)
    assert styled.startswith('<svg class="chart" viewBox="0 0 10 10" xmlns="http://www.w3.org/2000/svg"><style>')
    style = styled.split("<style>", 1)[1].split("</style>", 1)[0]
    for rule in series_rules:
        assert rule in style
    assert '"DejaVu Sans"' in style
    assert ".gs-legend-mark.series-experience { color: #1a4e8a; }" in pdf.legend_css()


def test_weasyprint_is_not_imported_when_the_app_starts(tmp_path):
    code = (
        "import sys, django; django.setup(); import gensidig.urls, gensidig.wsgi; "
        "sys.exit(1 if 'weasyprint' in sys.modules else 0)"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gensidig.settings",
        "GENSIDIG_DATA_DIR": str(tmp_path),
        # The application checks its ballot key when it loads; a deployment gives it one.
        "GENSIDIG_BALLOT_KEY": settings.GENSIDIG_BALLOT_KEY,
    }
    done = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr or "weasyprint was imported at start-up"


def test_filenames_are_plain_ascii(closed):
    closed.team.slug = "område-øst"
    assert exports.filename(round_=closed, what="report.pdf") == "gensidig-omrade-st-round-1-report.pdf"
    assert settings.SITE_URL  # links in a PDF are made absolute against it
