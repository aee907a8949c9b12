"""HR's changes to one person, through the import's own path; the people export; the guard
against an import that makes many people leave."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.utils import translation

from gensidig.models import Person, Team, User
from gensidig.services.organisation import chart as chart_module
from gensidig.services.organisation.chart import LeavingNotConfirmed, apply_import, plan_import, read_chart
from gensidig.services.organisation.chart_edits import ChangeRejected
from gensidig.services.organisation.people import (
    PersonDetails,
    add_person,
    change_manager,
    deactivate_person,
    edit_person,
    reactivate_person,
)
from gensidig.services.organisation.people_export import people_csv, people_table, people_xlsx
from gensidig.services.organisation.teams import ensure_login

from .test_orgchart import CHART, chart_csv

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def organisation():
    return apply_import(
        organisation_slug="kommune", chart=read_chart(data=chart_csv(), filename="chart.csv")
    ).organisation


def person(email: str) -> Person:
    return Person.objects.get(organisation__slug="kommune", email__iexact=email)


def team_of(chief_email: str) -> Team | None:
    return Team.objects.filter(organisation__slug="kommune", chief__email=chief_email, active=True).first()


def leaders(chief_email: str) -> set[str]:
    return set(team_of(chief_email).leaders.values_list("email", flat=True))


def snapshot() -> list[tuple]:
    """Everything a change could touch, to show that a refused change touched nothing."""
    people = sorted(
        Person.objects.values_list("email", "name", "title", "unit", "language", "manager__email", "active", "user")
    )
    teams = sorted(Team.objects.values_list("slug", "name", "chief__email", "parent__slug", "active", "named_by_hr"))
    members = sorted(Team.leaders.through.objects.values_list("team__slug", "person__email"))
    return [people, teams, members]


def rejected(call, **kwargs) -> dict:
    before = snapshot()
    with pytest.raises(ChangeRejected) as caught:
        call(**kwargs)
    assert snapshot() == before, "a refused change wrote something"
    return caught.value.errors


def details(**values) -> PersonDetails:
    base = {"email": "ny@kommune.dk", "name": "Nina Ny", "unit": "Plejecenter Nord", "title": "Leder"}
    return PersonDetails(**{**base, **values})


# --- Adding -------------------------------------------------------------------------------------


def test_a_person_added_under_someone_without_reports_makes_that_someone_a_teams_chief(organisation):
    assert team_of("afd.egely@kommune.dk") is None
    added = add_person(organisation=organisation, details=details(manager_email="AFD.Egely@kommune.dk"))
    assert added.active and added.manager == person("afd.egely@kommune.dk")
    team = team_of("afd.egely@kommune.dk")
    assert leaders("afd.egely@kommune.dk") == {"ny@kommune.dk"}
    assert team.name == "Plejecenter Egely"  # named after the chief's unit, as on import
    assert team.parent == team_of("leder.pleje@kommune.dk")


def test_a_person_added_at_the_top_leads_nothing_and_joins_no_team(organisation):
    added = add_person(organisation=organisation, details=details())
    assert added.manager is None and not added.teams_joined.exists()


def test_an_address_someone_has_in_another_letter_case_is_refused(organisation):
    errors = rejected(add_person, organisation=organisation, details=details(email="Leder.Pleje@Kommune.DK"))
    assert errors == {
        "email": [
            "Pia Pleje (leder.pleje@kommune.dk) already has this e-mail address (addresses are the same in "
            "any letter case)."
        ]
    }


def test_the_address_of_someone_who_left_says_to_reactivate_them(organisation):
    deactivate_person(organisation=organisation, person=person("afd.egely@kommune.dk"))
    errors = rejected(add_person, organisation=organisation, details=details(email="afd.egely@kommune.dk"))
    assert "who has left the org chart" in errors["email"][0] and "Reactivate" in errors["email"][0]


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"email": "not an address"}, "email", "“not an address” is not a valid e-mail address."),
        ({"email": ""}, "email", "Write the person's e-mail address."),
        ({"name": "  "}, "name", "Write the person's name."),
        ({"unit": "x" * 201}, "unit", "This can be at most 200 characters."),
        ({"language": "de"}, "language", "Choose Danish or English."),
        (
            {"manager_email": "nobody@kommune.dk"},
            "manager_email",
            "Nobody in the org chart has the e-mail address nobody@kommune.dk.",
        ),
        ({"manager_email": "ny@kommune.dk"}, "manager_email", "Someone cannot be their own manager."),
    ],
)
def test_bad_details_are_refused_with_a_message_about_the_field(organisation, values, field, message):
    errors = rejected(add_person, organisation=organisation, details=details(**values))
    assert errors[field] == [message]


# --- Moving -------------------------------------------------------------------------------------


def test_teams_follow_a_manager_move_as_they_do_on_import(organisation):
    # Bent moves from Pia's team to Lis's: Pia's team keeps Anne, Lis gets a team, under the school chief's.
    change_manager(
        organisation=organisation, person=person("afd.egely@kommune.dk"), manager_email="leder.skole@kommune.dk"
    )
    assert person("afd.egely@kommune.dk").manager == person("leder.skole@kommune.dk")
    assert leaders("leder.pleje@kommune.dk") == {"afd.solhaven@kommune.dk"}
    assert leaders("leder.skole@kommune.dk") == {"afd.egely@kommune.dk"}
    assert team_of("leder.skole@kommune.dk").parent == team_of("chef.skole@kommune.dk")

    # Anne follows: Pia has nobody left, so her team is dissolved (kept, inactive).
    change_manager(
        organisation=organisation, person=person("afd.solhaven@kommune.dk"), manager_email="leder.skole@kommune.dk"
    )
    assert team_of("leder.pleje@kommune.dk") is None
    assert Team.objects.get(chief__email="leder.pleje@kommune.dk").active is False


def test_the_same_move_gives_exactly_what_importing_the_moved_chart_gives(organisation):
    change_manager(
        organisation=organisation, person=person("leder.hjemme@kommune.dk"), manager_email="chef.skole@kommune.dk"
    )
    moved = [
        row if row[0] != "leder.hjemme@kommune.dk" else (*row[:2], "chef.skole@kommune.dk", row[3]) for row in CHART
    ]
    apply_import(organisation_slug="fil", chart=read_chart(data=chart_csv(moved), filename="chart.csv"))
    assert organisation_state("kommune") == organisation_state("fil")


def organisation_state(slug: str) -> list:
    teams = Team.objects.filter(organisation__slug=slug)
    return [
        sorted(Person.objects.filter(organisation__slug=slug).values_list("email", "manager__email", "active")),
        sorted(teams.values_list("slug", "name", "chief__email", "parent__slug", "active")),
        sorted(Team.leaders.through.objects.filter(team__in=teams).values_list("team__slug", "person__email")),
    ]


def test_a_move_that_would_close_a_circle_is_refused_and_names_it(organisation):
    errors = rejected(
        change_manager,
        organisation=organisation,
        person=person("chef.aeldre@kommune.dk"),
        manager_email="afd.egely@kommune.dk",
    )
    assert errors == {
        "manager_email": [
            "Bent Afdeling (afd.egely@kommune.dk) reports to Ærø Østergård Åsa (chef.aeldre@kommune.dk), directly or "
            "through others, so the reporting lines would go round in a circle."
        ]
    }


def test_a_manager_who_has_left_is_refused(organisation):
    deactivate_person(organisation=organisation, person=person("afd.egely@kommune.dk"))
    errors = rejected(
        change_manager,
        organisation=organisation,
        person=person("afd.solhaven@kommune.dk"),
        manager_email="afd.egely@kommune.dk",
    )
    assert "has left the org chart" in errors["manager_email"][0]


# --- Editing ------------------------------------------------------------------------------------


def test_editing_changes_the_details_and_moving_the_unit_renames_the_team_as_an_import_would(organisation):
    pia = person("leder.pleje@kommune.dk")
    edited = edit_person(
        organisation=organisation,
        person=pia,
        details=PersonDetails(
            email=pia.email,
            name="Pia Plejer",
            title="Områdeleder",
            unit="Plejecentre Syd",
            language="en",
            manager_email="chef.aeldre@kommune.dk",
        ),
    )
    assert (edited.name, edited.title, edited.unit, edited.language) == (
        "Pia Plejer",
        "Områdeleder",
        "Plejecentre Syd",
        "en",
    )
    assert team_of("leder.pleje@kommune.dk").name == "Plejecentre Syd"


def test_a_new_address_is_the_same_person_and_the_old_addresses_account_no_longer_acts_as_them(organisation):
    pia = person("leder.pleje@kommune.dk")
    ensure_login(person=pia)
    team = team_of("leder.pleje@kommune.dk")
    edited = edit_person(
        organisation=organisation,
        person=pia,
        details=PersonDetails(
            email="Pia.Ny@Kommune.dk", name=pia.name, unit=pia.unit, manager_email="chef.aeldre@kommune.dk"
        ),
    )
    assert edited.pk == pia.pk and edited.email == "pia.ny@kommune.dk" and edited.user is None
    assert team_of("pia.ny@kommune.dk") == team  # the same team, with its rounds
    assert leaders("pia.ny@kommune.dk") == {"afd.solhaven@kommune.dk", "afd.egely@kommune.dk"}
    assert person("afd.egely@kommune.dk").manager_id == pia.pk
    assert User.objects.filter(email="leder.pleje@kommune.dk").exists()  # the account stays, without the person


def test_a_change_is_one_transaction_a_failure_while_applying_leaves_the_old_address(organisation, monkeypatch):
    pia = person("leder.pleje@kommune.dk")

    def fail(**_kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("gensidig.services.organisation.chart_edits.apply_import", fail)
    before = snapshot()
    with pytest.raises(RuntimeError):
        edit_person(organisation=organisation, person=pia, details=PersonDetails(email="pia.ny@kommune.dk", name="Pia"))
    assert snapshot() == before


def test_someone_who_left_cannot_be_edited_until_reactivated(organisation):
    bent = deactivate_person(organisation=organisation, person=person("afd.egely@kommune.dk"))
    errors = rejected(edit_person, organisation=organisation, person=bent, details=PersonDetails.of(bent))
    assert "has left the org chart" in errors[None][0]


# --- Leaving and coming back --------------------------------------------------------------------


def test_a_chief_cannot_leave_without_saying_who_their_reports_report_to(organisation):
    errors = rejected(deactivate_person, organisation=organisation, person=person("leder.pleje@kommune.dk"))
    assert errors == {
        "reports_to": [
            "Pia Pleje (leder.pleje@kommune.dk) has 2 people reporting to them: choose who they will report to instead."
        ]
    }


def test_a_chief_who_leaves_hands_their_reports_to_the_manager_chosen_and_their_team_is_dissolved(organisation):
    pia = deactivate_person(
        organisation=organisation, person=person("leder.pleje@kommune.dk"), reports_to="chef.aeldre@kommune.dk"
    )
    assert not pia.active and pia.manager is None
    assert Team.objects.get(chief=pia).active is False
    assert leaders("chef.aeldre@kommune.dk") == {
        "leder.hjemme@kommune.dk",
        "afd.solhaven@kommune.dk",
        "afd.egely@kommune.dk",
    }
    assert not Person.objects.filter(manager=pia).exists()  # nobody points at someone who left


def test_a_leaving_chiefs_reports_cannot_go_to_someone_in_their_own_branch(organisation):
    errors = rejected(
        deactivate_person,
        organisation=organisation,
        person=person("chef.aeldre@kommune.dk"),
        reports_to="afd.egely@kommune.dk",
    )
    assert "Choose someone who does not, for example the manager of" in errors["reports_to"][0]


def test_someone_who_comes_back_is_the_same_person_under_the_manager_chosen(organisation):
    bent = deactivate_person(organisation=organisation, person=person("afd.egely@kommune.dk"))
    back = reactivate_person(organisation=organisation, person=bent, manager_email="leder.hjemme@kommune.dk")
    assert back.pk == bent.pk and back.active and back.name == "Bent Afdeling"
    assert leaders("leder.hjemme@kommune.dk") == {"afd.egely@kommune.dk"}
    errors = rejected(reactivate_person, organisation=organisation, person=back)
    assert errors == {None: ["Bent Afdeling (afd.egely@kommune.dk) is already in the org chart."]}


# --- The export ---------------------------------------------------------------------------------


def test_the_csv_export_imports_again_unchanged(organisation):
    add_person(organisation=organisation, details=details(name='=HYPERLINK("http://x")', title="+45 1234", unit="-Syd"))
    for language in ("da", "en"):
        with translation.override(language):
            data = people_csv(organisation=organisation).encode("utf-8")
        chart = read_chart(data=data, filename="people.csv")
        assert chart.errors == []
        assert not plan_import(organisation=organisation, chart=chart).has_changes, language


def test_the_xlsx_export_imports_again_unchanged(organisation):
    add_person(organisation=organisation, details=details(name="=1+1"))
    data = people_xlsx(organisation=organisation)
    chart = read_chart(data=data, filename="people.xlsx")
    assert chart.errors == [] and not plan_import(organisation=organisation, chart=chart).has_changes


def test_no_exported_cell_is_a_formula(organisation):
    add_person(organisation=organisation, details=details(name="=cmd|' /C calc'!A0", title="@SUM(1)", unit="+1"))
    text = people_csv(organisation=organisation)
    assert "'=cmd" in text and "'@SUM(1)" in text and "'+1" in text
    sheet = openpyxl.load_workbook(io.BytesIO(people_xlsx(organisation=organisation))).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert any(cell.value == "=cmd|' /C calc'!A0" for cell in cells)
    assert all(cell.data_type != "f" for cell in cells)


def test_the_export_has_the_import_columns_and_the_people_who_left_only_when_asked(organisation):
    deactivate_person(organisation=organisation, person=person("afd.egely@kommune.dk"))
    with translation.override("da"):
        table = people_table(organisation=organisation)
        assert table[0] == ["e-mail", "navn", "leders e-mail", "enhed", "titel", "sprog"]
    assert "afd.egely@kommune.dk" not in {row[0] for row in table}
    with_left = people_table(organisation=organisation, include_inactive=True)
    assert with_left[0][-1] == "Status"
    assert ["afd.egely@kommune.dk", "Bent Afdeling", "", "Plejecenter Egely", "", "da", "Left"] in with_left


# --- An import that makes many leave ------------------------------------------------------------


def partial_chart():
    return read_chart(data=chart_csv(CHART[:6]), filename="chart.csv")  # two of eight left out


def test_an_import_that_makes_more_than_the_set_share_leave_is_refused_without_the_number(organisation, settings):
    settings.GENSIDIG_IMPORT_CONFIRM_LEAVING_SHARE = 0.10
    plan = plan_import(organisation=organisation, chart=partial_chart())
    assert (len(plan.leaving), plan.active_before, plan.leaving_needs_confirmation) == (2, 8, True)
    before = snapshot()
    for confirmed in (0, 1, 3):
        with pytest.raises(LeavingNotConfirmed) as caught:
            apply_import(organisation_slug="kommune", chart=partial_chart(), leaving_confirmed=confirmed)
        assert (caught.value.leaving, caught.value.active) == (2, 8)
        assert snapshot() == before
    apply_import(organisation_slug="kommune", chart=partial_chart(), leaving_confirmed=2)
    assert Person.objects.filter(organisation=organisation, active=True).count() == 6


def test_an_import_that_makes_no_more_than_the_share_leave_needs_no_confirmation(organisation, settings):
    settings.GENSIDIG_IMPORT_CONFIRM_LEAVING_SHARE = 0.25
    assert not plan_import(organisation=organisation, chart=partial_chart()).leaving_needs_confirmation  # 2 of 8
    apply_import(organisation_slug="kommune", chart=partial_chart(), leaving_confirmed=0)
    assert Person.objects.filter(organisation=organisation, active=True).count() == 6


def test_column_names_shown_on_the_upload_page_are_names_the_import_reads():
    for name in chart_module.COLUMN_NAMES:
        for written in (name.english, name.danish, *name.also):
            assert chart_module._HEADER_LOOKUP[chart_module._header_key(written)] == name.column, written
    assert [name.column for name in chart_module.COLUMN_NAMES] == list(chart_module.COLUMNS)
