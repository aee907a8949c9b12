"""The people list as a spreadsheet (CSV or XLSX) in the import's own columns.

Exporting the active people and importing the file again changes nothing, so HR can fix the chart
in Excel and bring it back. With the people who left included, a status column says who they are
(the import ignores it, but would bring them back: the page says so).

No cell is ever a formula when a spreadsheet opens the file: in XLSX every text cell is stored as
text; in CSV a cell that begins with = + - @ (or a tab or carriage return) gets an apostrophe in
front, as Excel itself writes it, and the import drops that apostrophe again.
"""

from __future__ import annotations

import csv
import io

from django.utils.formats import get_format
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from gensidig.models import Organisation, Person

from .chart import COLUMN_NAMES, FORMULA_STARTS
from .chart_edits import current_chart

BOM = "\ufeff"  # Excel reads a CSV as UTF-8 only when it starts with one


def headers(*, include_inactive: bool) -> list[str]:
    """The import's column names in the page's language (Danish or English), and the status column."""
    danish = (get_language() or "da").startswith("da")
    names = [name.danish if danish else name.english for name in COLUMN_NAMES]
    return [*names, _("Status")] if include_inactive else names


def people_table(*, organisation: Organisation, include_inactive: bool = False) -> list[list[str]]:
    """The header and one row per person: the active people in the chart's order, then those who left."""
    current = current_chart(organisation)
    table = [headers(include_inactive=include_inactive)]
    active = _("Active") if include_inactive else None
    for row in current.rows.values():
        cells = [row.email, row.name, row.manager_email, row.unit, row.title, row.language]
        table.append([*cells, active] if active else cells)
    if include_inactive:
        left = Person.objects.filter(organisation=organisation, active=False).order_by("name", "email")
        for person in left:
            table.append([person.email.lower(), person.name, "", person.unit, person.title, person.language, _("Left")])
    return table


def filename(*, organisation: Organisation, extension: str) -> str:
    """gensidig-<organisation>-people.<ext>, in ASCII so every browser keeps it."""
    return f"gensidig-{slugify(organisation.slug) or 'organisation'}-people.{extension}"


def people_csv(*, organisation: Organisation, include_inactive: bool = False) -> str:
    """The table as CSV text with a byte-order mark, separated by `;` where the language writes a
    decimal comma (Danish Excel expects it) and by `,` otherwise; the import reads both."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=";" if get_format("DECIMAL_SEPARATOR") == "," else ",")
    for row in people_table(organisation=organisation, include_inactive=include_inactive):
        writer.writerow([csv_cell(cell) for cell in row])
    return out.getvalue()


def csv_cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def people_xlsx(*, organisation: Organisation, include_inactive: bool = False) -> bytes:
    """The table as an Excel workbook: one sheet, bold and frozen header, every cell text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("People")
    for row in people_table(organisation=organisation, include_inactive=include_inactive):
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            cell.data_type = "s"  # text stays text: a name that begins with "=" is not a formula
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCDEFG", (34, 28, 34, 28, 24, 8, 10), strict=False):
        sheet.column_dimensions[column].width = width
    workbook.properties.creator = "Gensidig"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
