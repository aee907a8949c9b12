"""The org-chart import: reading CSV and XLSX files, checking them, previewing and applying them."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from gensidig.models import Organisation, Person, Round, Team, TeamMembership
from gensidig.services.organisation.chart import (
    ChartRejected,
    apply_import,
    import_chart,
    plan_import,
    read_chart,
)
from gensidig.services.organisation.teams import create_team

from ..factories import make_team, start_round

HEADER = ("email", "name", "manager_email", "unit")
DANISH_NAME = "Ærø Østergård Åsa"

# Four levels: the director; two chiefs; leaders under them; heads of section under one leader.
# chef.aeldre and leder.pleje are each a leader in their chief's team and the chief of their own.
CHART = [
    ("direktor@kommune.dk", "Dorte Direktør", "", "Direktionen"),
    ("chef.aeldre@kommune.dk", DANISH_NAME, "direktor@kommune.dk", "Ældre og Sundhed"),
    ("chef.skole@kommune.dk", "Sune Skov", "direktor@kommune.dk", "Skole og Dagtilbud"),
    ("leder.pleje@kommune.dk", "Pia Pleje", "chef.aeldre@kommune.dk", "Plejecentre"),
    ("leder.hjemme@kommune.dk", "Hans Hjem", "chef.aeldre@kommune.dk", "Hjemmeplejen"),
    ("leder.skole@kommune.dk", "Lis Lærer", "chef.skole@kommune.dk", "Nordskolen"),
    ("afd.solhaven@kommune.dk", "Anne Afdeling", "leder.pleje@kommune.dk", "Plejecenter Solhaven"),
    ("afd.egely@kommune.dk", "Bent Afdeling", "leder.pleje@kommune.dk", "Plejecenter Egely"),
]


def chart_csv(rows=CHART, *, header=HEADER, delimiter=",", encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def chart_xlsx(rows=CHART, *, header=HEADER) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def read_csv_text(text: str, *, encoding="utf-8"):
    return read_chart(data=text.encode(encoding), filename="chart.csv")


def messages(chart) -> list[str]:
    return [error.message for error in chart.errors]


def import_rows(rows=CHART, *, slug="kommune", header=HEADER, **kwargs):
    chart = read_chart(data=chart_csv(rows, header=header), filename="chart.csv")
    return apply_import(organisation_slug=slug, chart=chart, **kwargs)


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (Organisation, Person, Team, TeamMembership)}


def active_team(chief_email: str, slug="kommune") -> Team:
    return Team.objects.get(organisation__slug=slug, chief__email=chief_email, active=True)


def leader_emails(team: Team) -> set[str]:
    return set(team.leaders.values_list("email", flat=True))


@pytest.fixture(autouse=True)
def _english():
    # The messages are translated; the tests read them in English whatever the catalogue says.
    with translation.override("en"):
        yield


# --- Reading ---------------------------------------------------------------------------------


def test_a_comma_separated_file_gives_one_row_per_person_with_its_line_number():
    chart = read_chart(data=chart_csv(), filename="chart.csv")
    assert chart.errors == []
    assert [row.line for row in chart.rows] == list(range(2, 10))
    first = chart.rows[1]
    assert (first.email, first.name, first.manager_email, first.unit) == CHART[1]
    assert first.title == "" and first.language == ""


def test_a_semicolon_separated_file_as_danish_excel_writes_it_is_read_the_same():
    comma = read_chart(data=chart_csv(), filename="chart.csv")
    semicolon = read_chart(data=chart_csv(delimiter=";"), filename="chart.csv")
    assert semicolon.errors == [] and semicolon.rows == comma.rows


@pytest.mark.parametrize("delimiter", [",", ";"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_danish_letters_survive_every_encoding_and_delimiter(encoding, delimiter):
    chart = read_chart(data=chart_csv(delimiter=delimiter, encoding=encoding), filename="chart.csv")
    assert chart.errors == []
    assert chart.rows[0].email == "direktor@kommune.dk"  # no byte-order mark glued to the first header
    assert chart.rows[1].name == DANISH_NAME
    assert chart.rows[1].unit == "Ældre og Sundhed"


def test_an_xlsx_workbook_is_read_from_its_first_sheet_whatever_the_file_is_called():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Email", "Name", "Manager_Email", "Unit", "Title"])
    sheet.append(["  Boss@Kommune.dk ", DANISH_NAME, None, "Direktionen", 2024])
    sheet.append([])
    sheet.append(["leder@kommune.dk", "Lis", "boss@kommune.dk", None, 3.0])
    workbook.create_sheet("Ignored").append(["not", "read"])
    out = io.BytesIO()
    workbook.save(out)

    chart = read_chart(data=out.getvalue(), filename="upload")
    assert chart.errors == []
    assert [(row.line, row.email, row.manager_email) for row in chart.rows] == [
        (2, "boss@kommune.dk", ""),
        (4, "leder@kommune.dk", "boss@kommune.dk"),
    ]
    assert chart.rows[0].name == DANISH_NAME and chart.rows[0].title == "2024"
    assert chart.rows[1].unit == "" and chart.rows[1].title == "3"


def test_danish_headers_in_any_letter_case_are_understood():
    text = (
        "E-mail;Navn;Leders e-mail;Afdeling;Stilling;Sprog\n"
        "chef@kommune.dk;Chef;;Stab;Direktør;DA\n"
        "leder@kommune.dk;Leder;chef@kommune.dk;Team;Leder;en\n"
    )
    chart = read_csv_text(text, encoding="cp1252")
    assert chart.errors == [] and chart.has_title and chart.has_language
    assert [(row.title, row.language) for row in chart.rows] == [("Direktør", "da"), ("Leder", "en")]
    assert chart.rows[1].manager_email == "chef@kommune.dk"

    other_words = read_csv_text("MAIL,navn,leder,enhed,titel,language\na@kommune.dk,A,,X,Y,da\n")
    assert other_words.errors == [] and other_words.rows[0].unit == "X"


def test_a_first_line_naming_the_delimiter_as_excel_writes_it_is_not_a_row():
    chart = read_csv_text("sep=;\nemail;name;manager_email;unit\nchef@kommune.dk;Hansen, Hans;;Stab\n")
    assert chart.errors == []
    assert [(row.line, row.name) for row in chart.rows] == [(3, "Hansen, Hans")]


def test_blank_lines_are_skipped_and_rows_keep_their_own_line_numbers():
    text = (
        "email;name;manager_email;unit\n\nchef@kommune.dk;Chef;;Stab\n;;;\nleder@kommune.dk;Leder;chef@kommune.dk;\n\n"
    )
    chart = read_csv_text(text)
    assert chart.errors == []
    assert [row.line for row in chart.rows] == [3, 5]


def test_quoted_values_may_contain_the_delimiter_and_other_columns_are_ignored():
    text = 'email,name,manager_email,unit,employee number\nchef@kommune.dk,"Hansen, Hans",,"Stab, Økonomi",17\n'
    chart = read_csv_text(text)
    assert chart.errors == []
    assert chart.rows[0].name == "Hansen, Hans" and chart.rows[0].unit == "Stab, Økonomi"


# --- Errors ----------------------------------------------------------------------------------


def test_missing_columns_are_named_without_a_line():
    chart = read_csv_text("email;navn\na@kommune.dk;A\n")
    assert [error.line for error in chart.errors] == [None]
    assert "manager_email, unit" in chart.errors[0].message


def test_a_column_given_twice_is_an_error_on_the_header_line():
    chart = read_csv_text("email,mail,name,manager_email,unit\na@kommune.dk,a@kommune.dk,A,,X\n")
    assert messages(chart) == ["Line 1: the column “mail” appears more than once."]


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", "\ufeff".encode()])
def test_an_empty_file_is_an_error(data):
    assert messages(read_chart(data=data, filename="chart.csv")) == ["The file is empty."]


def test_a_file_with_only_the_header_is_an_error_rather_than_everyone_leaving():
    chart = read_csv_text("email,name,manager_email,unit\n")
    assert chart.rows == [] and "lists no people" in chart.errors[0].message


@pytest.mark.parametrize(
    ("data", "filename"),
    [(b"\x00\x01\x02 binary \x81\x8d", "chart.csv"), (b"not a workbook", "chart.xlsx"), (b"PK\x03\x04junk", "x")],
)
def test_a_file_that_is_neither_csv_nor_xlsx_is_an_error(data, filename):
    chart = read_chart(data=data, filename=filename)
    assert len(chart.errors) == 1 and "could not be read" in chart.errors[0].message


def test_a_missing_or_bad_email_address_names_its_line():
    chart = read_csv_text("email,name,manager_email,unit\n,Nobody,,X\nnot-an-address,Bad,,X\n")
    assert messages(chart) == [
        "Line 2: the e-mail address is missing.",
        "Line 3: “not-an-address” is not a valid e-mail address.",
    ]


def test_the_same_address_in_another_letter_case_is_a_duplicate_naming_both_lines():
    chart = read_csv_text(
        "email,name,manager_email,unit\nanna@kommune.dk,A,,X\nbo@kommune.dk,B,,X\nAnna@Kommune.DK,A2,,X\n"
    )
    assert [error.line for error in chart.errors] == [4]
    assert "Line 4: anna@kommune.dk is also on line 2" in chart.errors[0].message


def test_a_manager_who_is_not_in_the_file_is_an_error():
    chart = read_csv_text("email,name,manager_email,unit\nanna@kommune.dk,A,boss@elsewhere.dk,X\n")
    assert messages(chart) == [
        "Line 2: the manager boss@elsewhere.dk is not in the file; only people in the file can be managers."
    ]


def test_a_person_cannot_be_their_own_manager():
    chart = read_csv_text("email,name,manager_email,unit\nanna@kommune.dk,A,ANNA@kommune.dk,X\n")
    assert messages(chart) == ["Line 2: anna@kommune.dk is given as their own manager."]


def test_a_circle_in_the_reporting_lines_names_the_people_and_lines_in_it():
    chart = read_csv_text(
        "email,name,manager_email,unit\n"
        "top@k.dk,Top,,X\n"
        "a@k.dk,A,c@k.dk,X\n"
        "b@k.dk,B,a@k.dk,X\n"
        "c@k.dk,C,b@k.dk,X\n"
        "d@k.dk,D,a@k.dk,X\n"
    )
    assert len(chart.errors) == 1
    error = chart.errors[0]
    assert error.line == 3 and error.message.startswith("Lines 3, 4, 5: the reporting lines go round in a circle")
    assert "a@k.dk → c@k.dk → b@k.dk → a@k.dk" in error.message
    assert "d@k.dk" not in error.message and "top@k.dk" not in error.message


def test_only_danish_and_english_are_languages_and_overlong_values_are_refused():
    chart = read_csv_text(
        f"email,name,manager_email,unit,language\na@k.dk,{'N' * 201},,X,de\nb@k.dk,B,,{'U' * 201},EN\n"
    )
    assert messages(chart) == [
        "Line 2: “name” is longer than 200 characters.",
        "Line 2: the language “de” is not known; use da or en, or leave it empty.",
        "Line 3: “unit” is longer than 200 characters.",
    ]


def test_every_problem_is_reported_at_once_in_line_order():
    chart = read_csv_text(
        "email;name;manager_email;unit\n"
        "top@k.dk;Top;;X\n"
        "bad-address;Bad;top@k.dk;X\n"
        "TOP@k.dk;Again;;X\n"
        "lost@k.dk;Lost;ghost@k.dk;X\n"
        ";No address;top@k.dk;X\n"
    )
    assert [error.line for error in chart.errors] == [3, 4, 5, 6]
    assert not chart.is_valid


# --- Planning --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_preview_of_a_new_organisation_lists_everyone_and_every_team_and_writes_nothing():
    before = row_counts()
    result = import_chart(organisation_slug="kommune", data=chart_csv(), filename="chart.csv", apply=False)
    assert row_counts() == before
    plan = result.plan
    assert not result.applied and result.errors == () and not plan.organisation_exists
    assert [person.email for person in plan.new] == [row[0] for row in CHART]
    assert plan.changed == [] and plan.leaving == [] and plan.unchanged == 0
    formed = {team.name: team for team in plan.teams_formed}
    assert set(formed) == {"Direktionen", "Ældre og Sundhed", "Skole og Dagtilbud", "Plejecentre"}
    assert formed["Ældre og Sundhed"].slug == "aeldre-og-sundhed"
    assert formed["Ældre og Sundhed"].parent_name == "Direktionen" and formed["Direktionen"].parent_name == ""
    assert formed["Plejecentre"].leaders == 2 and formed["Plejecentre"].parent_name == "Ældre og Sundhed"


@pytest.mark.django_db
def test_the_preview_of_a_known_organisation_lists_new_changed_and_leaving_people_and_writes_nothing():
    import_rows()
    organisation = Organisation.objects.get(slug="kommune")
    next_year = [row for row in CHART if row[0] != "leder.hjemme@kommune.dk"]
    next_year[4] = ("leder.skole@kommune.dk", "Lis Lærer", "chef.aeldre@kommune.dk", "Nordskolen")
    next_year.append(("ny@kommune.dk", "Ny Leder", "chef.skole@kommune.dk", "Sydskolen"))
    before = row_counts()

    plan = plan_import(organisation=organisation, chart=read_chart(data=chart_csv(next_year), filename="c.csv"))

    assert row_counts() == before
    assert [p.email for p in plan.new] == ["ny@kommune.dk"]
    assert [p.email for p in plan.leaving] == ["leder.hjemme@kommune.dk"]
    [moved] = plan.changed
    assert moved.email == "leder.skole@kommune.dk"
    assert [(c.field, c.old, c.new) for c in moved.changes] == [
        ("manager", "chef.skole@kommune.dk", "chef.aeldre@kommune.dk")
    ]
    assert plan.unchanged == len(CHART) - 2
    changed = {team.name: team for team in plan.teams_changed}
    assert changed["Ældre og Sundhed"].leaders_added == ("leder.skole@kommune.dk",)
    assert changed["Ældre og Sundhed"].leaders_removed == ("leder.hjemme@kommune.dk",)
    assert changed["Skole og Dagtilbud"].leaders_added == ("ny@kommune.dk",)
    assert plan.teams_formed == [] and plan.teams_dissolved == []


@pytest.mark.django_db
def test_a_chart_with_errors_cannot_be_planned_or_applied():
    chart = read_csv_text("email,name,manager_email,unit\nanna@k.dk,A,ghost@k.dk,X\n")
    with pytest.raises(ChartRejected) as rejected:
        plan_import(organisation=None, chart=chart)
    assert rejected.value.errors == chart.errors
    with pytest.raises(ChartRejected):
        apply_import(organisation_slug="kommune", chart=chart)
    assert not Organisation.objects.exists()


# --- Applying --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_four_level_chart_makes_a_team_for_every_chief_with_its_direct_reports_and_parent():
    result = import_rows(organisation_name="Kommunen")
    organisation = result.organisation
    assert result.applied and organisation.name == "Kommunen" and organisation.slug == "kommune"
    assert Person.objects.filter(organisation=organisation, active=True).count() == len(CHART)
    aeldre = Person.objects.get(email="chef.aeldre@kommune.dk")
    assert aeldre.name == DANISH_NAME and aeldre.manager.email == "direktor@kommune.dk" and aeldre.language == "da"

    top = active_team("direktor@kommune.dk")
    middle = active_team("chef.aeldre@kommune.dk")
    lower = active_team("leder.pleje@kommune.dk")
    skole = active_team("chef.skole@kommune.dk")
    assert Team.objects.filter(organisation=organisation).count() == 4
    assert (top.name, top.slug, top.parent) == ("Direktionen", "direktionen", None)
    assert (middle.name, middle.slug, middle.parent) == ("Ældre og Sundhed", "aeldre-og-sundhed", top)
    assert lower.parent == middle and skole.parent == top
    assert leader_emails(top) == {"chef.aeldre@kommune.dk", "chef.skole@kommune.dk"}
    assert leader_emails(middle) == {"leder.pleje@kommune.dk", "leder.hjemme@kommune.dk"}
    assert leader_emails(lower) == {"afd.solhaven@kommune.dk", "afd.egely@kommune.dk"}
    # The middle manager is a leader in their chief's team and the chief of their own.
    assert set(aeldre.teams_joined.all()) == {top} and set(aeldre.teams_led.all()) == {middle}


@pytest.mark.django_db
def test_applying_the_same_file_twice_changes_nothing_and_duplicates_nobody():
    import_rows()
    people = list(Person.objects.order_by("pk").values())
    teams = list(Team.objects.order_by("pk").values())
    memberships = list(TeamMembership.objects.order_by("pk").values())

    again = import_rows()

    assert not again.plan.has_changes and again.plan.unchanged == len(CHART) and again.plan.teams_unchanged == 4
    assert list(Person.objects.order_by("pk").values()) == people
    assert list(Team.objects.order_by("pk").values()) == teams
    assert list(TeamMembership.objects.order_by("pk").values()) == memberships


@pytest.mark.django_db
def test_next_years_chart_updates_people_deactivates_the_leaver_and_a_dissolved_team():
    import_rows()
    pleje_team = active_team("leder.pleje@kommune.dk")
    people_before = Person.objects.count()
    next_year = [
        ("DIREKTOR@Kommune.dk", "Dorte Direktør", "", "Direktionen"),  # the same person in other letters
        ("chef.aeldre@kommune.dk", DANISH_NAME, "direktor@kommune.dk", "Ældre og Sundhed"),
        ("chef.skole@kommune.dk", "Sune Skov", "direktor@kommune.dk", "Skole og Dagtilbud"),
        ("leder.pleje@kommune.dk", "Pia Pleje", "chef.aeldre@kommune.dk", "Plejecentre"),
        ("leder.hjemme@kommune.dk", "Hans Hjem", "chef.skole@kommune.dk", "Hjemmeplejen"),  # new manager
        ("leder.skole@kommune.dk", "Lis Lærer", "chef.skole@kommune.dk", "Nordskolen"),
        ("ny@kommune.dk", "Nina Ny", "chef.aeldre@kommune.dk", "Plejecenter Egely"),  # new
        # afd.solhaven and afd.egely have left, so leder.pleje leads nobody any more.
    ]

    result = import_rows(next_year)

    plan = result.plan
    assert [p.email for p in plan.new] == ["ny@kommune.dk"]
    assert {p.email for p in plan.leaving} == {"afd.solhaven@kommune.dk", "afd.egely@kommune.dk"}
    assert [c.email for c in plan.changed] == ["leder.hjemme@kommune.dk"]
    assert [t.slug for t in plan.teams_dissolved] == [pleje_team.slug]
    assert Person.objects.count() == people_before + 1
    assert Person.objects.get(email="direktor@kommune.dk").active
    leaver = Person.objects.get(email="afd.solhaven@kommune.dk")
    assert not leaver.active and leaver.manager is None
    assert Person.objects.get(email="leder.hjemme@kommune.dk").manager.email == "chef.skole@kommune.dk"

    pleje_team.refresh_from_db()
    assert not pleje_team.active  # kept for the rounds that refer to it
    assert leader_emails(active_team("chef.skole@kommune.dk")) == {"leder.skole@kommune.dk", "leder.hjemme@kommune.dk"}
    assert leader_emails(active_team("chef.aeldre@kommune.dk")) == {"leder.pleje@kommune.dk", "ny@kommune.dk"}
    assert Team.objects.filter(active=True).count() == 3


@pytest.mark.django_db
def test_a_chart_with_an_error_writes_nothing_at_all():
    import_rows()
    before = row_counts()
    broken = [*CHART[:-1], ("afd.egely@kommune.dk", "Bent", "ghost@kommune.dk", "X"), ("new@kommune.dk", "N", "", "Y")]

    result = import_chart(organisation_slug="kommune", data=chart_csv(broken), filename="chart.csv", apply=True)

    assert not result.applied and result.plan is None
    assert [error.line for error in result.errors] == [9]
    assert row_counts() == before
    result = import_chart(organisation_slug="another", data=chart_csv(broken), filename="chart.csv", apply=True)
    assert row_counts() == before  # not even the new organisation


@pytest.mark.django_db
def test_a_failure_half_way_leaves_nothing_behind(monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(TeamMembership.objects, "bulk_create", fail)
    with pytest.raises(RuntimeError):
        import_rows()
    assert row_counts() == {"Organisation": 0, "Person": 0, "Team": 0, "TeamMembership": 0}


@pytest.mark.django_db
def test_people_who_come_back_are_reactivated_with_their_team():
    import_rows()
    without_pleje = [row for row in CHART if row[2] != "leder.pleje@kommune.dk"]
    import_rows(without_pleje)
    old_team = Team.objects.get(chief__email="leder.pleje@kommune.dk")
    assert not old_team.active

    result = import_rows()

    returning = {c.email for c in result.plan.changed if c.returning}
    assert returning == {"afd.solhaven@kommune.dk", "afd.egely@kommune.dk"}
    assert [t.slug for t in result.plan.teams_formed] == [old_team.slug]
    assert Person.objects.filter(active=True).count() == len(CHART) == Person.objects.count()
    assert active_team("leder.pleje@kommune.dk") == old_team
    assert leader_emails(old_team) == {"afd.solhaven@kommune.dk", "afd.egely@kommune.dk"}


@pytest.mark.django_db
def test_optional_columns_left_out_or_empty_keep_what_is_known():
    header = (*HEADER, "title", "language")
    import_rows(
        [("chef@k.dk", "Chef", "", "Stab", "Direktør", "en"), ("a@k.dk", "A", "chef@k.dk", "", "Leder", "")],
        header=header,
    )
    chef = Person.objects.get(email="chef@k.dk")
    assert (chef.title, chef.language) == ("Direktør", "en")
    assert Person.objects.get(email="a@k.dk").language == "da"

    # Without the title and language columns, and with an empty name, the known values stay.
    data = chart_csv([("chef@k.dk", "", "", "Stab"), ("a@k.dk", "A", "chef@k.dk", "")])
    import_chart(organisation_slug="kommune", data=data, filename="c.csv", apply=True)
    chef.refresh_from_db()
    assert (chef.name, chef.title, chef.language) == ("Chef", "Direktør", "en")

    data = chart_csv(
        [("chef@k.dk", "Chef", "", "Stab", "", "da"), ("a@k.dk", "A", "chef@k.dk", "", "Leder", "")], header=header
    )
    result = import_chart(organisation_slug="kommune", data=data, filename="c.csv", apply=True)
    chef.refresh_from_db()
    assert (chef.title, chef.language) == ("", "da")
    [change] = result.plan.changed
    assert {(c.field, c.old, c.new) for c in change.changes} == {("title", "Direktør", ""), ("language", "en", "da")}


@pytest.mark.django_db
def test_team_names_come_from_the_unit_or_the_chiefs_name_and_short_names_are_unique_and_stable():
    organisation = Organisation.objects.create(slug="kommune", name="Kommunen")
    create_team(organisation=organisation, name="Skole", chief_email="other@k.dk", leader_emails=["x@k.dk"])
    rows = [
        ("top@k.dk", "Tove Top", "", ""),
        ("s1@k.dk", "S1", "top@k.dk", "Skole"),
        ("s2@k.dk", "S2", "top@k.dk", "Skole"),
        ("a@k.dk", "A", "s1@k.dk", ""),
        ("b@k.dk", "B", "s2@k.dk", ""),
    ]
    import_rows(rows)
    assert active_team("top@k.dk").name == "Tove Top"
    assert (active_team("s1@k.dk").slug, active_team("s2@k.dk").slug) == ("skole-2", "skole-3")
    assert not Team.objects.get(slug="skole").active  # its chief is not in the chart

    renamed = [*rows[:1], ("s1@k.dk", "S1", "top@k.dk", "Østskolen"), *rows[2:]]
    result = import_rows(renamed)
    team = active_team("s1@k.dk")
    assert (team.name, team.slug) == ("Østskolen", "skole-2")
    assert [(t.old_name, t.name) for t in result.plan.teams_changed] == [("Skole", "Østskolen")]


@pytest.mark.django_db
def test_a_chiefs_existing_team_and_its_rounds_are_kept():
    team = make_team(leaders=3)
    round_, _links = start_round(team)
    leaders = sorted(leader_emails(team))
    rows = [(team.chief.email, "Chief", "", "Stab"), *[(email, "L", team.chief.email, "") for email in leaders[:2]]]

    import_rows(rows, slug=team.organisation.slug)

    team.refresh_from_db()
    assert team.active and team.name == "Stab" and team.slug.startswith("team-")
    assert leader_emails(team) == set(leaders[:2])
    assert Team.objects.filter(chief=team.chief).count() == 1
    assert Round.objects.get(pk=round_.pk).team == team


@pytest.mark.django_db
def test_an_organisation_needs_a_short_name_usable_in_a_url():
    result = import_chart(organisation_slug="Aarhus Kommune", data=chart_csv(), filename="c.csv", apply=True)
    assert not result.applied and "short name" in result.errors[0].message
    assert not Organisation.objects.exists()


def _generated_chart(people: int) -> list[tuple[str, str, str, str]]:
    rows = [("p0@k.dk", "P0", "", "Top")]
    for n in range(1, people):
        rows.append((f"p{n}@k.dk", f"P{n}", f"p{(n - 1) // 4}@k.dk", f"Unit {n}"))
    return rows


@pytest.mark.django_db
def test_the_number_of_queries_does_not_grow_with_the_number_of_people():
    def queries(rows, slug):
        chart = read_chart(data=chart_csv(rows), filename="c.csv")
        with CaptureQueriesContext(connection) as captured:
            apply_import(organisation_slug=slug, chart=chart)
        return len(captured)

    # Both charts are five levels deep (1, 4, 16, 64, 256 people), so their levels match.
    small, large = queries(_generated_chart(100), "small"), queries(_generated_chart(341), "large")
    assert small == large < 40
    assert Person.objects.filter(organisation__slug="large").count() == 341
    assert queries(_generated_chart(341), "large") < 12  # a re-import without changes only reads
