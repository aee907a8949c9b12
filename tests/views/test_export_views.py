"""Downloads of a closed round as the chief and the team's leaders get them: the report and the guide as
tagged PDFs, the figures as XLSX and CSV; never a comment, never a figure under the threshold."""

import csv
import io
import logging
import re

import openpyxl
import pypdfium2
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from pypdf import PdfReader

from gensidig.models import Round
from gensidig.services.exports import BOM
from gensidig.services.retention import add_months, purge_expired
from gensidig.services.survey.instruments import framework_for

from ..factories import closed_round, make_team
from .test_dialogue_views import leader_client, text_of
from .test_report_views import leader_value, sign_in

pytestmark = pytest.mark.django_db

TEAM_NAME = "Område Øst – Ældrepleje"
COMMENT = "Kun til chefen – må aldrig med i en eksport"
CHIEF_EXPORTS = ("report-pdf", "guide-pdf", "figures-xlsx", "figures-csv")
TEAM_EXPORTS = ("team-report-pdf", "team-figures-xlsx", "team-figures-csv")
# The charts' colours in gensidig.css: leaders' experience (filled circle), the chief's diamond.
EXPERIENCE_BLUE, CHIEF_ORANGE = (0x1A, 0x4E, 0x8A), (0xB3, 0x47, 0x00)


@pytest.fixture
def closed(team):
    team.name = TEAM_NAME
    team.save()
    # Six of eight leaders answer: figures and comments (from max(k, 5) = 5) are both shown on the web.
    return closed_round(team, answering=6, value=leader_value, chief_value=4, comments={"direction": COMMENT})


def get(client, name, round_):
    return client.get(reverse(f"gensidig:{name}", args=[round_.public_id]))


def pdf_text(content: bytes) -> str:
    """All pages' text, whitespace folded (a sentence may wrap anywhere)."""
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages))


def folded(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def structure(content: bytes):
    """The PDF's catalog, and its tagged structure elements as (type, alternate text) pairs."""
    reader = PdfReader(io.BytesIO(content))
    catalog = reader.trailer["/Root"]
    found, stack = [], [catalog["/StructTreeRoot"]]
    while stack:
        node = stack.pop()
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if "/S" in node:
                found.append((str(node["/S"]), str(node.get("/Alt", ""))))
            kids = node.get("/K")
            if kids is not None:
                stack.append(kids)
    return catalog, reader.metadata, found


def coloured_pixels(content: bytes, page: int, colour: tuple[int, int, int]) -> int:
    """How many pixels of a page, drawn at 72 dpi, are (close to) a colour."""
    image = pypdfium2.PdfDocument(content)[page].render(scale=1).to_pil().convert("RGB")
    return sum(
        count
        for count, pixel in image.getcolors(1 << 24)
        if sum(abs(a - b) for a, b in zip(pixel, colour, strict=True)) < 40
    )


def chart_page(content: bytes, title: str) -> int:
    reader = PdfReader(io.BytesIO(content))
    return next(i for i, page in enumerate(reader.pages) if title in folded(page.extract_text()))


def test_the_chief_downloads_the_report_as_a_tagged_pdf_with_its_figures(client, team, closed, caplog):
    sign_in(client, team)
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        response = get(client, "report-pdf", closed)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="gensidig-{team.slug}-round-1-report.pdf"'
    assert response["Cache-Control"] == "no-store, private"
    assert not [r.getMessage() for r in caplog.records], "WeasyPrint warned: an untagged figure, a missing lang, ..."
    content = response.content
    text = pdf_text(content)
    with translation.override("da"):
        expected = [
            TEAM_NAME,
            _("The six themes at a glance"),
            _("Themes to talk about"),
            _("Where to concentrate"),
            _("The mirror: what you expect of your leaders"),
            _("What leaders need from you"),
            _("How the leaders' answers are spread"),
            _("How to read the figures"),
            "5,0",  # the leaders' importance of every theme
            "2,0",  # their experience of strategic direction
            "+3,0",  # the gap
            "Høj (4–5): 6",  # a distribution, grouped as the report groups it
        ]
        themes = framework_for(closed.instrument, "da").themes
        title = _("Report: %(team)s, round %(number)s") % {"team": TEAM_NAME, "number": 1}
        overview = _("The six themes in figures (1–5)")
    for part in [*expected, *(theme.title for theme in themes), *(theme.needs[0].title for theme in themes)]:
        assert part in text, part
    assert COMMENT not in text and "Kun til chefen" not in text

    catalog, metadata, elements = structure(content)
    assert catalog["/MarkInfo"]["/Marked"].value is True
    assert catalog["/Lang"] == "da"
    assert metadata.title == title
    kinds = {kind for kind, _alt in elements}
    assert {"/H1", "/H2", "/H3", "/Table", "/TH", "/TD", "/L", "/LI", "/Figure"} <= kinds
    alts = [alt for kind, alt in elements if kind == "/Figure"]
    assert len(alts) == 1 + 1 + 1 + 2 * 6  # overview, grid, mirror, and two charts per theme
    assert all(alts), "every chart has its title as alternate text"

    page = chart_page(content, overview)  # the overview chart's page: its table follows the chart
    assert coloured_pixels(content, page, EXPERIENCE_BLUE) > 150  # the dots are drawn, in the chart's colour
    assert coloured_pixels(content, page, CHIEF_ORANGE) > 150


def test_the_guide_pdf_has_the_agenda_the_differences_and_each_focus_theme(client, team, closed):
    sign_in(client, team)
    response = get(client, "guide-pdf", closed)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].endswith('-round-1-guide.pdf"')
    assert response["Cache-Control"] == "no-store, private"
    guide = client.get(reverse("gensidig:guide", args=[closed.public_id])).context["guide"]
    text = pdf_text(response.content)
    framework = framework_for(closed.instrument, "da")
    direction = next(t for t in framework.themes if t.key == "direction")
    with translation.override("da"):
        headings = [
            _("Meeting guide"),
            _("Agenda"),
            _("Welcome: why we are here"),
            _("Leading leaders is different"),
            _("What we agree"),
            _("Round-up and next steps"),
            _("What the need involves"),
            _("Questions for the leaders"),
        ]
        needs_table = _("%(theme)s: the needs in figures (1–5)") % {"theme": direction.title}
    for part in [
        *headings,
        TEAM_NAME,
        *(difference.title for difference in framework.differences),
        *(item.theme.title for item in guide.themes),
        *(step.title for step in guide.steps),
        "0:00–0:10",  # the time boxes
        folded(direction.practices[0]),
        folded(direction.dilemmas[0]),
        folded(direction.reflection_chief[0]),
        "2,0",  # the leaders' experience of strategic direction, in the chart's table
    ]:
        assert part in text, part
    assert "Kun til chefen" not in text
    catalog, metadata, elements = structure(response.content)
    assert catalog["/MarkInfo"]["/Marked"].value is True and catalog["/Lang"] == "da"
    assert TEAM_NAME in metadata.title
    assert sum(kind == "/Figure" for kind, _alt in elements) == len(guide.themes)
    page = chart_page(response.content, needs_table)  # the table follows the chart
    assert coloured_pixels(response.content, page, EXPERIENCE_BLUE) > 150
    assert coloured_pixels(response.content, page, CHIEF_ORANGE) > 100


def test_the_figures_download_as_xlsx_and_csv_with_the_reports_numbers(client, team, closed):
    sign_in(client, team)
    report = client.get(reverse("gensidig:report", args=[closed.public_id])).context["report"]
    need = report.theme("direction").needs[0]
    xlsx = get(client, "figures-xlsx", closed)
    assert xlsx["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert xlsx["Content-Disposition"].endswith('-round-1-figures.xlsx"')
    assert xlsx["Cache-Control"] == "no-store, private"
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    with translation.override("da"):
        assert rows[0][:5] == (_("Theme"), _("Item"), _("Side"), _("Measure"), _("Value"))
        found = {(r[1], r[3]): r[4] for r in rows[1:] if r[2] == _("Leaders")}
        assert found[(need.title, _("Importance"))] == need.importance.mean == 5.0
        assert found[(need.title, _("Experience"))] == need.experience.mean == 2.0

    response = get(client, "figures-csv", closed)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith('-round-1-figures.csv"')
    assert response["Cache-Control"] == "no-store, private"
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
    danish = list(csv.reader(io.StringIO(response.content.decode("utf-8").removeprefix(BOM)), delimiter=";"))
    assert len(danish) == len(rows)
    assert [need.title, "5,0"] in [[r[1], r[4]] for r in danish]

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = get(client, "figures-csv", closed).content.decode("utf-8").removeprefix(BOM)
    rows = list(csv.reader(io.StringIO(english), delimiter=","))
    assert rows[0][:4] == ["Theme", "Item", "Side", "Measure"]
    english_need = framework_for(closed.instrument, "en").themes[0].needs[0].title
    assert [english_need, "Leaders", "Experience", "2.0"] in [r[1:5] for r in rows]


def test_under_the_threshold_no_leaders_figure_reaches_any_export():
    team = make_team(leaders=8)
    team.name = TEAM_NAME
    team.save()
    round_ = closed_round(team, answering=3, value=5, chief_value=1, comments={"direction": COMMENT})
    from django.test import Client

    client = sign_in(Client(), team)
    with translation.override("da"):
        note = _("Too few answers to show")
    for name in ("report-pdf", "guide-pdf"):
        text = pdf_text(get(client, name, round_).content)
        assert "5,0" not in text, name  # the three leaders' unanimous 5s
        assert "1,0" in text  # the chief's own answers are there
        assert COMMENT not in text
    assert note in pdf_text(get(client, "report-pdf", round_).content)
    workbook = openpyxl.load_workbook(io.BytesIO(get(client, "figures-xlsx", round_).content))
    cells = [cell for sheet in workbook for row in sheet.iter_rows(values_only=True) for cell in row]
    assert note in cells and 5 not in cells and "5,0" not in cells
    assert not any(COMMENT in str(cell) for cell in cells)
    text = get(client, "figures-csv", round_).content.decode("utf-8")
    assert note in text and "5,0" not in text and COMMENT not in text


def test_comments_reach_no_export_even_when_enough_leaders_answered_to_show_them(client, team, closed):
    sign_in(client, team)
    page = client.get(reverse("gensidig:report-theme", args=[closed.public_id, "direction"]))
    assert COMMENT in text_of(page)  # on the web, the chief reads them
    for name in CHIEF_EXPORTS:
        response = get(client, name, closed)
        assert response.status_code == 200
        if name.endswith("pdf"):
            text = pdf_text(response.content)
        elif name.endswith("xlsx"):
            workbook = openpyxl.load_workbook(io.BytesIO(response.content))
            text = " ".join(str(c) for sheet in workbook for row in sheet.iter_rows(values_only=True) for c in row)
        else:
            text = response.content.decode("utf-8")
        assert COMMENT not in text and "Kun til chefen" not in text, name


def test_a_leader_of_a_shared_round_downloads_the_teams_report_and_figures(client, team, closed):
    leader_client(client, closed)
    for name in TEAM_EXPORTS:
        assert get(client, name, closed).status_code == 404, name  # not shared yet
    Round.objects.filter(pk=closed.pk).update(shared_on=closed.closed_on)
    response = get(client, "team-report-pdf", closed)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store, private"
    text = pdf_text(response.content)
    with translation.override("da"):
        assert _("The mirror: what the chief expects of the leaders") in text
        assert _("What the leaders need from the chief") in text
        assert _("What leaders need from you") not in text
    assert TEAM_NAME in text and "5,0" in text and COMMENT not in text
    xlsx = get(client, "team-figures-xlsx", closed)
    csv_text = get(client, "team-figures-csv", closed).content.decode("utf-8")
    assert xlsx.status_code == 200 and COMMENT not in csv_text and "5,0" in csv_text
    for name in CHIEF_EXPORTS:  # the chief's downloads stay the chief's
        assert get(client, name, closed).status_code == 404, name


def test_another_chief_gets_nothing_and_an_open_round_has_no_export(client, team, closed):
    other = make_team(leaders=5)
    sign_in(client, other)
    for name in (*CHIEF_EXPORTS, *TEAM_EXPORTS):
        assert get(client, name, closed).status_code == 404, name
    from ..factories import start_round

    open_round, _links = start_round(other)
    for name in CHIEF_EXPORTS:
        assert get(client, name, open_round).status_code == 404, name  # nothing before it closes (rule 5)


def test_a_purged_round_answers_410_as_the_report_does(client):
    team = make_team(leaders=5)
    round_ = closed_round(team, answering=5)
    purge_expired(today=add_months(round_.closed_on, team.organisation.retention_months))
    sign_in(client, team)
    for name in CHIEF_EXPORTS:
        response = get(client, name, round_)
        assert response.status_code == 410, name
        assert response["Cache-Control"] == "no-store, private"


def test_the_report_the_team_page_and_the_guide_link_to_their_downloads(client, team, closed):
    sign_in(client, team)
    report = client.get(reverse("gensidig:report", args=[closed.public_id])).content.decode()
    for name in ("report-pdf", "figures-xlsx", "figures-csv"):
        assert f'href="{reverse(f"gensidig:{name}", args=[closed.public_id])}"' in report, name
    guide = client.get(reverse("gensidig:guide", args=[closed.public_id])).content.decode()
    assert f'href="{reverse("gensidig:guide-pdf", args=[closed.public_id])}"' in guide
    Round.objects.filter(pk=closed.pk).update(shared_on=closed.closed_on)
    leader_client(client, closed)
    page = client.get(reverse("gensidig:team-report", args=[closed.public_id])).content.decode()
    for name in TEAM_EXPORTS:
        assert f'href="{reverse(f"gensidig:{name}", args=[closed.public_id])}"' in page, name
    assert reverse("gensidig:report-pdf", args=[closed.public_id]) not in page


def test_the_pdf_is_in_the_readers_language(client, team, closed):
    sign_in(client, team)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    content = get(client, "report-pdf", closed).content
    catalog, metadata, _elements = structure(content)
    assert catalog["/Lang"] == "en"
    assert metadata.title == f"Report: {TEAM_NAME}, round 1"
    text = pdf_text(content)
    english = framework_for(closed.instrument, "en").themes[0]
    assert "The six themes at a glance" in text and english.title in text and "5.0" in text
