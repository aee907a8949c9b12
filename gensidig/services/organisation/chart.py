"""The org-chart import: one row per person, who they report to, and the management teams that follow.

An organisation admin uploads a CSV or XLSX file (`email, name, manager_email, unit`, optionally
`title` and `language`). `read_chart` reads and checks it, `plan_import` says what would change
without writing anything, and `apply_import` makes the change in one transaction. Anyone with
people reporting to them is the chief of a team whose leaders are exactly those people, so a middle
manager is a leader in their chief's team and the chief of their own.

Re-importing next year's chart updates people (matched on their e-mail address in any letter case)
instead of duplicating them. People and teams that drop out are made inactive, never deleted: past
rounds and invitations refer to them.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email, validate_slug
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gensidig.models import Organisation, Person, Team, TeamMembership
from gensidig.models.choices import Language
from gensidig.services.organisation.teams import slug_for
from gensidig.services.results.rendered import retire_naming

ZIP_MAGIC = b"PK\x03\x04"
DELIMITERS = (";", ",")

# Header names are compared after lower-casing and dropping spaces, hyphens, underscores,
# dots and apostrophes, so "E-mail", "Manager email" and "Leders e-mail" all match.
HEADER_ALIASES = {
    "email": ("email", "mail"),
    "name": ("name", "navn"),
    "manager_email": ("manageremail", "manager", "managermail", "leder", "lederemail", "ledersemail", "ledersmail"),
    "unit": ("unit", "enhed", "afdeling"),
    "title": ("title", "titel", "stilling"),
    "language": ("language", "sprog"),
}
REQUIRED_COLUMNS = ("email", "name", "manager_email", "unit")
COLUMNS = (*REQUIRED_COLUMNS, "title", "language")


@dataclass(frozen=True)
class ColumnName:
    """How a column is written in English and in Danish (the upload page, the sample files and the
    people export use these), and other names the import also takes."""

    column: str
    english: str
    danish: str
    also: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.column in REQUIRED_COLUMNS


COLUMN_NAMES = (
    ColumnName("email", "email", "e-mail", ("mail",)),
    ColumnName("name", "name", "navn"),
    ColumnName("manager_email", "manager_email", "leders e-mail", ("manager", "leder")),
    ColumnName("unit", "unit", "enhed", ("afdeling",)),
    ColumnName("title", "title", "titel", ("stilling",)),
    ColumnName("language", "language", "sprog"),
)
_HEADER_LOOKUP = {alias: column for column, aliases in HEADER_ALIASES.items() for alias in aliases}
_HEADER_NOISE = str.maketrans("", "", " -_.'’\t")
# A spreadsheet reads a cell that begins with one of these as a formula. Gensidig's own CSV export
# writes such a cell with an apostrophe in front (as Excel itself does), and reading drops it again,
# so an exported chart imports unchanged.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# What a chart file may hold: the columns read (any beyond are ignored: a chart has a handful),
# and how large an XLSX may be unpacked. The number of rows is GENSIDIG_MAX_CHART_ROWS.
MAX_CHART_COLUMNS = 60
MAX_XLSX_UNPACKED_BYTES = 100 * 1024 * 1024

SLUG_MAX_LENGTH = Team._meta.get_field("slug").max_length
TEAM_NAME_MAX_LENGTH = Team._meta.get_field("name").max_length
LANGUAGES = frozenset(Language.values)


# --- What a file holds ----------------------------------------------------------------------


@dataclass(frozen=True)
class ChartError:
    """One problem with the file. `line` is the file's line (the header is line 1), or None for the whole file."""

    line: int | None
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ChartRow:
    """One person as the file gives them; e-mail addresses are trimmed and lower-cased."""

    line: int
    email: str
    name: str
    manager_email: str  # empty at the top of the chart
    unit: str
    title: str
    language: str  # empty keeps the person's language (Danish for someone new)


@dataclass
class Chart:
    """A read and checked org chart. A chart with errors can never be applied."""

    rows: list[ChartRow] = field(default_factory=list)
    errors: list[ChartError] = field(default_factory=list)
    # Optional columns: when a column is missing, the import leaves that field of known people alone.
    has_title: bool = False
    has_language: bool = False

    @property
    def is_valid(self) -> bool:
        return not self.errors


class LeavingNotConfirmed(ValueError):
    """The chart would make more than the set share of the active people leave, and HR has not
    confirmed that number, so nothing was imported."""

    def __init__(self, *, leaving: int, active: int):
        self.leaving, self.active = leaving, active
        super().__init__(f"{leaving} of {active} people would leave; the number must be confirmed.")


class ChartRejected(ValueError):
    """The chart (or the organisation's short name) has errors, so nothing was imported."""

    def __init__(self, errors: list[ChartError]):
        self.errors = list(errors)
        super().__init__("\n".join(error.message for error in self.errors))


# --- Reading --------------------------------------------------------------------------------


def read_chart(*, data: bytes, filename: str) -> Chart:
    """Read an org chart from the bytes of a CSV or XLSX file and check it.

    XLSX is recognised by its content (a zip archive) or its name; its first sheet is read.
    Anything else is CSV: UTF-8 with or without a byte-order mark, or cp1252 as older Danish
    Excel writes it, separated by `;` or `,` (whichever the header line uses). Headers may be
    English or Danish in any letter case. Blank lines are skipped; every row keeps its line
    number. All problems are collected in `chart.errors`, not just the first.
    """
    try:
        if data.startswith(ZIP_MAGIC) or filename.lower().endswith((".xlsx", ".xlsm")):
            records = _xlsx_records(data)
        else:
            records = _csv_records(data)
    except TooLarge as too_large:
        return Chart(errors=[ChartError(None, str(too_large))])
    if records is None:
        return Chart(
            errors=[
                ChartError(
                    None,
                    _(
                        "The file could not be read. Save it as CSV (UTF-8) or as an Excel workbook (.xlsx) "
                        "and try again."
                    ),
                )
            ]
        )
    return _chart_from_records(records)


def chart_to_json(chart: Chart) -> dict:
    """The chart as read, to keep with its upload (rows and errors, with their line numbers)."""
    return {
        "rows": [dataclasses.astuple(row) for row in chart.rows],
        "errors": [[error.line, error.message] for error in chart.errors],
        "has_title": chart.has_title,
        "has_language": chart.has_language,
    }


def chart_from_json(kept: dict) -> Chart:
    return Chart(
        rows=[ChartRow(*values) for values in kept["rows"]],
        errors=[ChartError(line, message) for line, message in kept["errors"]],
        has_title=kept["has_title"],
        has_language=kept["has_language"],
    )


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unescape_formula(str(value).strip())


def unescape_formula(text: str) -> str:
    """A cell as written before a spreadsheet's formula guard: "'=SUM(A1)" reads as "=SUM(A1)"."""
    if text.startswith("'") and text[1:2] and text[1] in FORMULA_STARTS:
        return text[1:]
    return text


class TooLarge(ValueError):
    """The file holds more than a chart ever does; the message says what and how much is allowed."""


def _too_many_rows() -> TooLarge:
    return TooLarge(
        _(
            "The file has more than %(rows)s rows, more than Gensidig reads. Check that it is the org chart, or ask whoever runs Gensidig for you to raise the limit."
        )
        % {"rows": f"{settings.GENSIDIG_MAX_CHART_ROWS:,}".replace(",", ".")}
    )


def _xlsx_records(data: bytes) -> list[tuple[int, list[str]]] | None:
    """The first sheet's rows, streamed (openpyxl's read-only mode) and stopped at the limits.

    Only the first MAX_CHART_COLUMNS columns are read: one stray cell far to the right (column
    XFD) would otherwise make every row sixteen thousand cells wide. A workbook that unpacks to
    more than MAX_XLSX_UNPACKED_BYTES is refused before it is parsed (a zip bomb).
    """
    import zipfile

    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
    except zipfile.BadZipFile:
        return None
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise TooLarge(_("The workbook is too large once unpacked. Save the org chart alone as CSV and try again."))
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a damaged or foreign file can fail in many ways inside openpyxl and zipfile
        return None
    try:
        if not workbook.worksheets:
            return []
        sheet = workbook.worksheets[0]
        # Some programs write a wrong sheet size; read what is actually there.
        sheet.reset_dimensions()
        records = []
        for number, row in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_CHART_COLUMNS), start=1):
            if number > settings.GENSIDIG_MAX_CHART_ROWS + 1:
                raise _too_many_rows()
            records.append((number, [_cell_text(value) for value in row]))
        return records
    except TooLarge:
        raise
    except Exception:  # a sheet damaged inside, found only while streaming it
        return None
    finally:
        workbook.close()


def _decode(data: bytes) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return None


def _csv_records(data: bytes) -> list[tuple[int, list[str]]] | None:
    text = _decode(data)
    if text is None or "\x00" in text:  # UTF-16 or a binary file
        return None
    if text.count("\n") > settings.GENSIDIG_MAX_CHART_ROWS + 1:
        raise _too_many_rows()
    header = next((line for line in text.splitlines() if line.strip()), "")
    # Excel honours (and some exports write) a first line "sep=;" naming the delimiter.
    hinted = header.strip().lower().startswith("sep=") and header.strip()[4:5] in DELIMITERS
    delimiter = header.strip()[4] if hinted else max(DELIMITERS, key=header.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records, line = [], 1
    try:
        for record in reader:
            # A quoted value may span lines; a row's number is the line it starts on.
            if hinted and any(cell.strip() for cell in record):
                hinted = False  # the hint is not a row
            else:
                records.append((line, [unescape_formula(cell.strip()) for cell in record[:MAX_CHART_COLUMNS]]))
            line = reader.line_num + 1
    except csv.Error:
        return None
    return records


def _header_key(raw: str) -> str:
    return raw.lower().translate(_HEADER_NOISE)


def _chart_from_records(records: list[tuple[int, list[str]]]) -> Chart:
    records = [(line, cells) for line, cells in records if any(cells)]
    if not records:
        return Chart(errors=[ChartError(None, _("The file is empty."))])
    (header_line, header), body = records[0], records[1:]
    errors: list[ChartError] = []
    positions: dict[str, int] = {}
    for index, raw in enumerate(header):
        column = _HEADER_LOOKUP.get(_header_key(raw))
        if column is None:
            continue  # other columns are allowed and ignored
        if column in positions:
            errors.append(
                ChartError(
                    header_line,
                    _("Line %(line)d: the column “%(column)s” appears more than once.")
                    % {"line": header_line, "column": raw},
                )
            )
        else:
            positions[column] = index
    missing = [column for column in REQUIRED_COLUMNS if column not in positions]
    if missing:
        errors.append(
            ChartError(
                None,
                _("The file has no column for: %(columns)s. The first line must name the columns %(required)s.")
                % {"columns": ", ".join(missing), "required": ", ".join(REQUIRED_COLUMNS)},
            )
        )
    if errors:
        return Chart(errors=errors)
    if not body:
        return Chart(errors=[ChartError(None, _("The file lists no people, only the column names."))])

    def cell(cells: list[str], column: str) -> str:
        index = positions.get(column)
        return cells[index] if index is not None and index < len(cells) else ""

    rows = [
        ChartRow(
            line=line,
            email=cell(cells, "email").lower(),
            name=cell(cells, "name"),
            manager_email=cell(cells, "manager_email").lower(),
            unit=cell(cells, "unit"),
            title=cell(cells, "title"),
            language=cell(cells, "language").lower(),
        )
        for line, cells in body
    ]
    chart = Chart(rows=rows, has_title="title" in positions, has_language="language" in positions)
    chart.errors = validate_chart(chart=chart)
    return chart


# --- Checking -------------------------------------------------------------------------------


def _max_lengths() -> dict[str, tuple[int, object]]:
    return {
        name: (Person._meta.get_field(name).max_length, Person._meta.get_field(name).verbose_name)
        for name in ("email", "name", "title", "unit")
    }


def validate_chart(*, chart: Chart) -> list[ChartError]:
    """Every problem in the chart's rows, in line order: addresses, duplicates, managers, cycles, languages, lengths."""
    errors: list[ChartError] = []
    first_line: dict[str, int] = {}
    valid: dict[str, ChartRow] = {}
    limits = _max_lengths()
    for row in chart.rows:
        line = row.line
        for name, (limit, label) in limits.items():
            if len(getattr(row, name)) > limit:
                errors.append(
                    ChartError(
                        line,
                        _("Line %(line)d: “%(field)s” is longer than %(limit)d characters.")
                        % {"line": line, "field": label, "limit": limit},
                    )
                )
        if row.language and row.language not in LANGUAGES:
            errors.append(
                ChartError(
                    line,
                    _("Line %(line)d: the language “%(language)s” is not known; use da or en, or leave it empty.")
                    % {"line": line, "language": row.language},
                )
            )
        if not row.email:
            errors.append(ChartError(line, _("Line %(line)d: the e-mail address is missing.") % {"line": line}))
            continue
        if not is_email(row.email):
            errors.append(
                ChartError(
                    line,
                    _("Line %(line)d: “%(email)s” is not a valid e-mail address.") % {"line": line, "email": row.email},
                )
            )
            continue
        if row.email in first_line:
            errors.append(
                ChartError(
                    line,
                    _(
                        "Line %(line)d: %(email)s is also on line %(first)d "
                        "(e-mail addresses are the same in any letter case)."
                    )
                    % {"line": line, "email": row.email, "first": first_line[row.email]},
                )
            )
            continue
        first_line[row.email] = line
        valid[row.email] = row

    managers: dict[str, str] = {}
    for row in valid.values():
        if not row.manager_email:
            continue
        if row.manager_email == row.email:
            errors.append(
                ChartError(
                    row.line,
                    _("Line %(line)d: %(email)s is given as their own manager.")
                    % {"line": row.line, "email": row.email},
                )
            )
        elif row.manager_email not in valid:
            errors.append(
                ChartError(
                    row.line,
                    _(
                        "Line %(line)d: the manager %(manager)s is not in the file; only people in the file can be managers."
                    )
                    % {"line": row.line, "manager": row.manager_email},
                )
            )
        else:
            managers[row.email] = row.manager_email
    errors.extend(_cycle_errors(managers, valid))
    errors.sort(key=lambda error: error.line or 0)
    return errors


def is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def _cycle_errors(managers: dict[str, str], rows: dict[str, ChartRow]) -> list[ChartError]:
    """One error per closed loop of reporting lines (a reports to b, b to c, c to a)."""
    errors = []
    state: dict[str, int] = {}  # 1: on the path being followed, 2: known to end at the top or in a loop
    for start in managers:
        path, email = [], start
        while email is not None and state.get(email) is None:
            state[email] = 1
            path.append(email)
            email = managers.get(email)
        if email is not None and state.get(email) == 1:
            loop = path[path.index(email) :]
            lines = sorted(rows[member].line for member in loop)
            errors.append(
                ChartError(
                    lines[0],
                    _("Lines %(lines)s: the reporting lines go round in a circle (%(people)s).")
                    % {
                        "lines": ", ".join(str(line) for line in lines),
                        "people": " → ".join([*loop, loop[0]]),
                    },
                )
            )
        for member in path:
            state[member] = 2
    return errors


def validate_organisation_slug(slug: str) -> list[ChartError]:
    """An organisation's short name must be usable in a URL."""
    try:
        validate_slug(slug)
    except ValidationError:
        return [
            ChartError(
                None,
                _("“%(slug)s” cannot be an organisation's short name: use letters, digits, hyphens and underscores.")
                % {"slug": slug},
            )
        ]
    if len(slug) > Organisation._meta.get_field("slug").max_length:
        return [ChartError(None, _("The organisation's short name “%(slug)s” is too long.") % {"slug": slug})]
    return []


# --- Planning -------------------------------------------------------------------------------

PERSON_FIELDS = ("email", "name", "title", "unit", "language", "manager")


@dataclass(frozen=True)
class FieldChange:
    """One field of a person that the import changes; for `manager` the values are e-mail addresses."""

    field: str
    old: str
    new: str

    @property
    def label(self) -> str:
        return str(Person._meta.get_field(self.field).verbose_name)


@dataclass(frozen=True)
class PersonEntry:
    """A person who is new or leaving. `line` is None for someone leaving (they are not in the file)."""

    email: str
    name: str
    unit: str
    manager_email: str
    line: int | None


@dataclass(frozen=True)
class PersonChange:
    """A known person whose details change, or who returns after having left."""

    email: str
    name: str
    line: int
    changes: tuple[FieldChange, ...]
    returning: bool = False


@dataclass(frozen=True)
class TeamEntry:
    """A team that is formed (or formed again) or dissolved."""

    name: str
    slug: str
    chief_email: str
    leaders: int
    parent_name: str  # empty at the top


@dataclass(frozen=True)
class TeamChange:
    """An active team that stays, but whose leaders, name or place in the hierarchy change."""

    name: str
    slug: str
    chief_email: str
    leaders_added: tuple[str, ...]
    leaders_removed: tuple[str, ...]
    old_name: str = ""  # empty when the name stays
    old_parent_name: str | None = None  # None when the parent stays
    new_parent_name: str | None = None


@dataclass
class ImportPlan:
    """What applying a chart would change. Making a plan writes nothing."""

    organisation_exists: bool
    new: list[PersonEntry] = field(default_factory=list)
    changed: list[PersonChange] = field(default_factory=list)
    unchanged: int = 0
    leaving: list[PersonEntry] = field(default_factory=list)
    teams_formed: list[TeamEntry] = field(default_factory=list)
    teams_dissolved: list[TeamEntry] = field(default_factory=list)
    teams_changed: list[TeamChange] = field(default_factory=list)
    teams_unchanged: int = 0
    active_before: int = 0  # the organisation's active people before the import

    @property
    def leaving_needs_confirmation(self) -> bool:
        """More than GENSIDIG_IMPORT_CONFIRM_LEAVING_SHARE of the active people would leave: a
        partial chart or the wrong file looks just like this, so HR must confirm the number."""
        share = settings.GENSIDIG_IMPORT_CONFIRM_LEAVING_SHARE
        return bool(self.leaving) and len(self.leaving) > share * self.active_before

    @property
    def has_changes(self) -> bool:
        return bool(
            not self.organisation_exists
            or self.new
            or self.changed
            or self.leaving
            or self.teams_formed
            or self.teams_dissolved
            or self.teams_changed
        )


@dataclass
class _PlannedTeam:
    chief_email: str
    name: str
    slug: str
    depth: int
    leader_emails: list[str]
    parent_chief_email: str  # empty at the top
    team: Team | None  # an existing team to reuse, or None for a new one


@dataclass
class _Work:
    """What `apply_import` writes, worked out together with the plan so the two cannot disagree."""

    people: dict[str, Person]  # everyone in the organisation, by lower-cased e-mail address
    new_people: list[tuple[int, Person, str]]  # (depth, unsaved person, manager e-mail)
    staying: list[tuple[Person, dict[str, str], str]]  # (known person, wanted fields, manager e-mail)
    leaving: list[Person]
    teams: list[_PlannedTeam]
    dissolved: list[Team]
    memberships: dict[int, dict[int, int]]  # team id -> person id -> membership id


def plan_import(*, organisation: Organisation | None, chart: Chart) -> ImportPlan:
    """Compare a valid chart with an organisation's people and teams (None: a new organisation).

    Lists the people who are new, changed (field by field, manager included), unchanged and
    leaving, and the teams formed, dissolved or changed. Writes nothing. Raises `ChartRejected`
    when the chart has errors.
    """
    return _prepare(organisation, chart)[0]


def _depths(rows: dict[str, ChartRow]) -> dict[str, int]:
    depths: dict[str, int] = {}
    for email in rows:
        path = []
        while email and email not in depths:
            path.append(email)
            email = rows[email].manager_email
        depth = depths[email] if email else -1
        for member in reversed(path):
            depth += 1
            depths[member] = depth
    return depths


def _prepare(organisation: Organisation | None, chart: Chart) -> tuple[ImportPlan, _Work]:
    if chart.errors:
        raise ChartRejected(chart.errors)
    rows = {row.email: row for row in chart.rows}
    depths = _depths(rows)
    reports: dict[str, list[str]] = defaultdict(list)
    for row in chart.rows:
        if row.manager_email:
            reports[row.manager_email].append(row.email)

    if organisation is not None and organisation.pk:
        known = list(Person.objects.filter(organisation=organisation).order_by("pk"))
        teams = list(Team.objects.filter(organisation=organisation).order_by("pk"))
        memberships: dict[int, dict[int, int]] = defaultdict(dict)
        for pk, team_id, person_id in TeamMembership.objects.filter(team__organisation=organisation).values_list(
            "pk", "team_id", "person_id"
        ):
            memberships[team_id][person_id] = pk
    else:
        known, teams, memberships = [], [], defaultdict(dict)
    people = {person.email.lower(): person for person in known}
    email_of = {person.pk: person.email.lower() for person in known}

    plan = ImportPlan(
        organisation_exists=organisation is not None and organisation.pk is not None,
        active_before=sum(1 for person in known if person.active),
    )
    new_people, staying = [], []
    final: dict[str, tuple[str, str]] = {}  # e-mail -> (name, unit) after the import, for team names
    for row in chart.rows:
        person = people.get(row.email)
        if person is None:
            new = Person(
                organisation=organisation,
                email=row.email,
                name=row.name,
                title=row.title,
                unit=row.unit,
                language=row.language or Language.DANISH,
            )
            new_people.append((depths[row.email], new, row.manager_email))
            plan.new.append(PersonEntry(row.email, row.name, row.unit, row.manager_email, row.line))
            final[row.email] = (new.name, new.unit)
            continue
        wanted = {
            "email": row.email,
            "name": row.name or person.name,
            "title": row.title if chart.has_title else person.title,
            "unit": row.unit,
            "language": row.language or person.language,
        }
        changes = [FieldChange(name, getattr(person, name), value) for name, value in wanted.items()]
        changes = [change for change in changes if change.old != change.new]
        old_manager = email_of.get(person.manager_id, "") if person.manager_id else ""
        if old_manager != row.manager_email:
            changes.append(FieldChange("manager", old_manager, row.manager_email))
        returning = not person.active
        if changes or returning:
            plan.changed.append(PersonChange(row.email, wanted["name"], row.line, tuple(changes), returning))
        else:
            plan.unchanged += 1
        staying.append((person, wanted, row.manager_email))
        final[row.email] = (wanted["name"], row.unit)
    leaving = [person for email, person in people.items() if person.active and email not in rows]
    leaving.sort(key=lambda person: person.email.lower())
    plan.leaving = [PersonEntry(p.email.lower(), p.name, p.unit, email_of.get(p.manager_id, ""), None) for p in leaving]

    # Teams: one per person with reports. Reuse the chief's existing team (an active one first,
    # else the latest inactive one) so its short name, rounds and campaigns carry over.
    teams_by_chief: dict[int, list[Team]] = defaultdict(list)
    for team in teams:
        teams_by_chief[team.chief_id].append(team)
    team_by_id = {team.pk: team for team in teams}
    taken = {team.slug for team in teams}
    chiefs = sorted(reports, key=lambda email: (depths[email], rows[email].line))
    planned: list[_PlannedTeam] = []
    reused_ids: set[int] = set()
    for chief in chiefs:
        name, unit = final[chief]
        team_name = (unit or name or chief)[:TEAM_NAME_MAX_LENGTH]
        person = people.get(chief)
        existing = teams_by_chief.get(person.pk, []) if person is not None else []
        team = next((t for t in existing if t.active), None) or (existing[-1] if existing else None)
        if team is not None and team.named_by_hr:
            team_name = team.name  # a name HR gave the team outlives the unit it was named after
        if team is not None:
            reused_ids.add(team.pk)
            slug = team.slug
        else:
            slug = _unique_slug(team_name, chief, taken)
        planned.append(
            _PlannedTeam(chief, team_name, slug, depths[chief], reports[chief], rows[chief].manager_email, team)
        )
    dissolved = [team for team in teams if team.active and team.pk not in reused_ids]

    planned_by_chief = {entry.chief_email: entry for entry in planned}
    for entry in planned:
        parent_name = planned_by_chief[entry.parent_chief_email].name if entry.parent_chief_email else ""
        team = entry.team
        if team is None or not team.active:
            plan.teams_formed.append(
                TeamEntry(entry.name, entry.slug, entry.chief_email, len(entry.leader_emails), parent_name)
            )
            continue
        current = {email_of[pk] for pk in memberships.get(team.pk, {})}
        wanted_leaders = set(entry.leader_emails)
        added = tuple(email for email in entry.leader_emails if email not in current)
        removed = tuple(sorted(current - wanted_leaders))
        old_parent = team_by_id.get(team.parent_id)
        old_parent_chief = email_of.get(old_parent.chief_id, "") if old_parent is not None else ""
        parent_moves = old_parent_chief != entry.parent_chief_email
        if added or removed or team.name != entry.name or parent_moves:
            plan.teams_changed.append(
                TeamChange(
                    name=entry.name,
                    slug=entry.slug,
                    chief_email=entry.chief_email,
                    leaders_added=added,
                    leaders_removed=removed,
                    old_name=team.name if team.name != entry.name else "",
                    old_parent_name=(old_parent.name if old_parent else "") if parent_moves else None,
                    new_parent_name=parent_name if parent_moves else None,
                )
            )
        else:
            plan.teams_unchanged += 1
    plan.teams_dissolved = [
        TeamEntry(
            team.name,
            team.slug,
            email_of.get(team.chief_id, ""),
            len(memberships.get(team.pk, {})),
            team_by_id[team.parent_id].name if team.parent_id in team_by_id else "",
        )
        for team in dissolved
    ]
    work = _Work(people, new_people, staying, leaving, planned, dissolved, memberships)
    return plan, work


def _unique_slug(name: str, chief_email: str, taken: set[str]) -> str:
    base = slug_for(name) or slug_for(chief_email.split("@")[0]) or "team"
    slug, number = base[:SLUG_MAX_LENGTH].strip("-"), 1
    while slug in taken:
        number += 1
        suffix = f"-{number}"
        slug = base[: SLUG_MAX_LENGTH - len(suffix)].strip("-") + suffix
    taken.add(slug)
    return slug


# --- Applying -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    """The outcome of an import: the chart, its plan (None when the chart has errors), and whether it was applied."""

    chart: Chart
    plan: ImportPlan | None
    organisation: Organisation | None
    applied: bool
    errors: tuple[ChartError, ...] = ()


def apply_import(
    *,
    organisation_slug: str,
    organisation_name: str | None = None,
    chart: Chart,
    leaving_confirmed: int | None = None,
) -> ImportResult:
    """Apply a valid chart to an organisation, creating the organisation (named `organisation_name`
    or its short name) if it does not exist yet.

    `leaving_confirmed` is for callers that guard against a partial chart (the web's import): when
    the plan made under the lock says more than the set share of the active people would leave
    (`ImportPlan.leaving_needs_confirmation`), it must equal the number leaving, or
    `LeavingNotConfirmed` is raised and nothing is written. None applies without that guard (the
    command line shows the plan and applies only with --yes; HR's one-person changes are their own
    confirmation).

    In one transaction: people are created or updated by e-mail address (any letter case) and
    re-activated if they return; people not in the file become inactive and lose their manager;
    every person with reports chiefs exactly one active team whose leaders are their direct
    reports and whose parent is their manager's team; teams whose chief has no reports any more
    become inactive. Raises `ChartRejected` before writing anything when the chart has errors.
    The number of queries does not grow with the number of people.
    """
    errors = [*validate_organisation_slug(organisation_slug), *chart.errors]
    if errors:
        raise ChartRejected(errors)
    with transaction.atomic():
        organisation, _created = Organisation.objects.get_or_create(
            slug=organisation_slug, defaults={"name": organisation_name or organisation_slug}
        )
        # One import at a time per organisation: the plan is made under the lock.
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        plan, work = _prepare(organisation, chart)
        if _created:
            plan.organisation_exists = False
        if leaving_confirmed is not None and plan.leaving_needs_confirmation and leaving_confirmed != len(plan.leaving):
            raise LeavingNotConfirmed(leaving=len(plan.leaving), active=plan.active_before)
        _write(organisation, work)
    return ImportResult(chart=chart, plan=plan, organisation=organisation, applied=True)


def _write(organisation: Organisation, work: _Work) -> None:
    people = work.people
    # New people are created level by level from the top, so each one's manager already has an id.
    for depth in sorted({depth for depth, _person, _manager in work.new_people}):
        level = [(person, manager) for d, person, manager in work.new_people if d == depth]
        for person, manager in level:
            person.organisation = organisation
            person.manager_id = people[manager].pk if manager else None
        created = Person.objects.bulk_create([person for person, _manager in level])
        _fill_missing_pks(created, Person, organisation, key="email")
        for person in created:
            people[person.email] = person

    changed, renamed = [], []
    for person, wanted, manager in work.staying:
        manager_id = people[manager].pk if manager else None
        if (
            person.active
            and person.manager_id == manager_id
            and all(getattr(person, k) == v for k, v in wanted.items())
        ):
            continue
        if any(getattr(person, k) != wanted[k] for k in ("name", "email") if k in wanted):
            renamed.append(person.pk)
        for name, value in wanted.items():
            setattr(person, name, value)
        person.manager_id, person.active, person.left_on = manager_id, True, None
        changed.append(person)
    # The day someone leaves starts the time after which they are erased (services/personal_data.py).
    today = timezone.localdate()
    for person in work.leaving:
        person.active, person.manager_id, person.left_on = False, None, today
        changed.append(person)
    if changed:
        Person.objects.bulk_update(
            changed, ["email", "name", "unit", "title", "language", "manager", "active", "left_on"], batch_size=500
        )
        # A report or guide kept with an agreement that names one of them must show the new name.
        retire_naming(person_ids=renamed)

    # Teams, level by level from the top, so each new team's parent already has an id.
    team_of: dict[str, Team] = {}
    to_update: list[Team] = []
    for depth in sorted({entry.depth for entry in work.teams}):
        fresh = []
        for entry in (entry for entry in work.teams if entry.depth == depth):
            parent = team_of[entry.parent_chief_email] if entry.parent_chief_email else None
            team = entry.team
            if team is None:
                team = Team(
                    organisation=organisation,
                    slug=entry.slug,
                    name=entry.name,
                    chief=people[entry.chief_email],
                    parent=parent,
                )
                fresh.append(team)
            elif team.name != entry.name or not team.active or team.parent_id != (parent.pk if parent else None):
                team.name, team.active, team.parent = entry.name, True, parent
                to_update.append(team)
            team_of[entry.chief_email] = team
        created = Team.objects.bulk_create(fresh)
        _fill_missing_pks(created, Team, organisation, key="slug")
    for team in work.dissolved:
        team.active = False
        to_update.append(team)
    if to_update:
        Team.objects.bulk_update(to_update, ["name", "active", "parent"], batch_size=500)

    # Memberships: exactly each chief's direct reports.
    add, remove = [], []
    for entry in work.teams:
        team = team_of[entry.chief_email]
        current = work.memberships.get(team.pk, {}) if entry.team is not None else {}
        wanted = {people[email].pk for email in entry.leader_emails}
        add.extend(TeamMembership(team=team, person_id=pk) for pk in wanted if pk not in current)
        remove.extend(membership for pk, membership in current.items() if pk not in wanted)
    if add:
        TeamMembership.objects.bulk_create(add, batch_size=2000)
    for start in range(0, len(remove), 500):
        TeamMembership.objects.filter(pk__in=remove[start : start + 500]).delete()


def _fill_missing_pks(objects: list, model, organisation: Organisation, *, key: str) -> None:
    # Databases that cannot return ids from a bulk insert leave them empty; look them up once.
    missing = [obj for obj in objects if obj.pk is None]
    if not missing:
        return
    ids = dict(
        model.objects.filter(
            organisation=organisation, **{f"{key}__in": [getattr(o, key) for o in missing]}
        ).values_list(key, "pk")
    )
    for obj in missing:
        obj.pk = ids[getattr(obj, key)]


# --- All in one -----------------------------------------------------------------------------


def import_chart(
    *,
    organisation_slug: str,
    organisation_name: str | None = None,
    data: bytes,
    filename: str,
    apply: bool,
) -> ImportResult:
    """Read, check and plan an import from a file's bytes, and apply it when `apply` is true.

    When the file (or the organisation's short name) has errors, nothing is written and the
    result carries the errors and no plan. Otherwise the result carries the plan: what would
    change (apply=False) or what did (apply=True).
    """
    chart = read_chart(data=data, filename=filename)
    errors = [*validate_organisation_slug(organisation_slug), *chart.errors]
    organisation = Organisation.objects.filter(slug=organisation_slug).first()
    if errors:
        return ImportResult(chart=chart, plan=None, organisation=organisation, applied=False, errors=tuple(errors))
    if apply:
        return apply_import(organisation_slug=organisation_slug, organisation_name=organisation_name, chart=chart)
    plan = plan_import(organisation=organisation, chart=chart)
    return ImportResult(chart=chart, plan=plan, organisation=organisation, applied=False)
