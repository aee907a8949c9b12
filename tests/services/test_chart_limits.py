"""Chart files that hold more than a chart: limited in rows, columns and unpacked size, read once.

The finding: a 100 KB XLSX of 20,000 rows with one cell in column XFD held a worker for 60 s and
2.7 GB, and every reload of the preview parsed it again. What bounds the work here is counted (cells
read, parses made), not timed.
"""

import io
import zipfile

import openpyxl
import pytest
from django.test import override_settings
from django.urls import reverse

from gensidig.models import ChartUpload, User
from gensidig.services.access import add_admin
from gensidig.services.organisation import chart as chart_module
from gensidig.services.organisation.chart import MAX_CHART_COLUMNS, read_chart

HEADER = ["email", "name", "manager_email", "unit"]


def workbook(rows: int, *, stray_column: int | None = None) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    sheet.append(["top@k.dk", "Top", "", "A"])
    for i in range(rows - 1):
        sheet.append([f"p{i}@k.dk", f"P {i}", "top@k.dk", "A"])
    if stray_column:
        sheet.append([None] * (stray_column - 1) + ["x"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def cells_read(monkeypatch):
    count = {"cells": 0}
    real = chart_module._cell_text

    def counting(value):
        count["cells"] += 1
        return real(value)

    monkeypatch.setattr(chart_module, "_cell_text", counting)
    return count


def test_a_stray_cell_in_column_xfd_does_not_make_every_row_sixteen_thousand_cells_wide(cells_read):
    data = workbook(20_000, stray_column=16_384)
    assert len(data) < 400_000
    chart = read_chart(data=data, filename="chart.xlsx")
    assert chart.is_valid, chart.errors[:3]
    assert len(chart.rows) == 20_000
    assert cells_read["cells"] <= (20_000 + 3) * MAX_CHART_COLUMNS


@override_settings(GENSIDIG_MAX_CHART_ROWS=100)
def test_a_workbook_over_the_row_limit_is_refused_with_a_message_before_it_is_all_read(cells_read):
    chart = read_chart(data=workbook(5_000), filename="chart.xlsx")
    assert not chart.is_valid
    assert "100" in chart.errors[0].message
    assert cells_read["cells"] <= 102 * MAX_CHART_COLUMNS


@override_settings(GENSIDIG_MAX_CHART_ROWS=100)
def test_a_csv_over_the_row_limit_is_refused_before_it_is_parsed(monkeypatch):
    monkeypatch.setattr(chart_module.csv, "reader", lambda *a, **k: pytest.fail("the CSV was parsed"))
    lines = ["email;name;manager_email;unit"] + [f"p{i}@k.dk;P;;A" for i in range(500)]
    chart = read_chart(data="\n".join(lines).encode(), filename="chart.csv")
    assert not chart.is_valid and "100" in chart.errors[0].message


def test_a_workbook_that_unpacks_to_too_much_is_refused_before_it_is_opened(monkeypatch):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (chart_module.MAX_XLSX_UNPACKED_BYTES + 1))
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: pytest.fail("the workbook was opened"))
    chart = read_chart(data=out.getvalue(), filename="chart.xlsx")
    assert not chart.is_valid
    assert len(out.getvalue()) < 1_000_000


def test_columns_beyond_the_limit_are_ignored_in_a_csv():
    header = HEADER + [f"extra{i}" for i in range(500)]
    row = ["top@k.dk", "Top", "", "A"] + ["x"] * 500
    chart = read_chart(data=(";".join(header) + "\n" + ";".join(row)).encode(), filename="c.csv")
    assert chart.is_valid and chart.rows[0].email == "top@k.dk"


@pytest.mark.django_db
def test_the_preview_uses_the_chart_as_read_at_upload_and_never_parses_it_again(client, monkeypatch):
    add_admin(email="hr@k.dk", organisation_slug="k", organisation_name="K")
    client.force_login(User.objects.get(email="hr@k.dk"))
    upload = io.BytesIO(workbook(50))
    upload.name = "chart.xlsx"
    response = client.post(reverse("gensidig:org-import", args=["k"]), {"chart": upload})
    assert response.status_code == 302
    stored = ChartUpload.objects.get()
    assert len(stored.parsed["rows"]) == 50
    monkeypatch.setattr(chart_module, "read_chart", lambda **k: pytest.fail("parsed again"))
    monkeypatch.setattr("gensidig.views.imports.read_chart", lambda **k: pytest.fail("parsed again"))
    for _ in range(3):
        assert client.get(response["Location"]).status_code == 200
    applied = client.post(response["Location"])
    assert applied.status_code == 302
