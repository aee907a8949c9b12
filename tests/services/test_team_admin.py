"""HR's changes to one team (create, rename, dissolve) and to the organisation's admins."""

from __future__ import annotations

import pytest
from django.utils import translation

from gensidig.models import OrganisationAdmin, Person, Team, User
from gensidig.services.access import add_admin
from gensidig.services.organisation.admins import (
    AdminError,
    add_organisation_admin,
    organisation_admins,
    remove_organisation_admin,
)
from gensidig.services.organisation.chart import apply_import, read_chart
from gensidig.services.organisation.chart_edits import ChangeRejected
from gensidig.services.organisation.team_admin import create_team, dissolve_team, rename_team

from .test_orgchart import CHART, chart_csv
from .test_people import rejected

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


def active_team(chief_email: str) -> Team | None:
    return Team.objects.filter(organisation__slug="kommune", chief__email=chief_email, active=True).first()


def leaders(team: Team) -> set[str]:
    return set(team.leaders.values_list("email", flat=True))


def reimport(rows=CHART):
    apply_import(organisation_slug="kommune", chart=read_chart(data=chart_csv(rows), filename="chart.csv"))


# --- Creating -----------------------------------------------------------------------------------


def test_creating_a_team_moves_the_people_chosen_to_its_chief_and_the_team_follows(organisation):
    team = create_team(
        organisation=organisation,
        chief_email="afd.egely@kommune.dk",
        leader_emails=["Afd.Solhaven@kommune.dk", "leder.skole@kommune.dk", "afd.solhaven@kommune.dk"],
        name="Egely og venner",
    )
    assert team.active and team.chief.email == "afd.egely@kommune.dk"
    assert leaders(team) == {"afd.solhaven@kommune.dk", "leder.skole@kommune.dk"}
    assert team.parent == active_team("leder.pleje@kommune.dk")
    assert (team.name, team.named_by_hr) == ("Egely og venner", True)
    # Lis left the school chief's team, who now has nobody: that team is dissolved.
    assert active_team("chef.skole@kommune.dk") is None
    assert leaders(active_team("leder.pleje@kommune.dk")) == {"afd.egely@kommune.dk"}


def test_a_team_without_a_name_is_named_after_its_chiefs_unit_as_on_import(organisation):
    team = create_team(
        organisation=organisation, chief_email="afd.egely@kommune.dk", leader_emails=["afd.solhaven@kommune.dk"]
    )
    assert (team.name, team.named_by_hr) == ("Plejecenter Egely", False)


def test_a_team_whose_leader_is_above_its_chief_is_refused_as_a_circle(organisation):
    errors = rejected(
        create_team,
        organisation=organisation,
        chief_email="afd.egely@kommune.dk",
        leader_emails=["chef.aeldre@kommune.dk"],
    )
    assert errors == {
        "leader_emails": [
            "Bent Afdeling (afd.egely@kommune.dk) reports to Ærø Østergård Åsa (chef.aeldre@kommune.dk), directly or "
            "through others, so the reporting lines would go round in a circle."
        ]
    }


@pytest.mark.parametrize(
    ("chief", "people", "field", "message"),
    [
        ("", ["afd.egely@kommune.dk"], "chief_email", "Choose the team's chief."),
        (
            "nobody@kommune.dk",
            ["afd.egely@kommune.dk"],
            "chief_email",
            "Nobody in the org chart has the e-mail address nobody@kommune.dk.",
        ),
        (
            "leder.pleje@kommune.dk",
            ["afd.egely@kommune.dk"],
            "chief_email",
            "Pia Pleje (leder.pleje@kommune.dk) already leads the team “Plejecentre”. To give it more leaders, change their manager.",
        ),
        ("afd.egely@kommune.dk", [], "leader_emails", "Choose at least one person to report to the chief."),
        (
            "afd.egely@kommune.dk",
            ["afd.egely@kommune.dk"],
            "leader_emails",
            "The chief cannot also be one of the team's leaders.",
        ),
        (
            "afd.egely@kommune.dk",
            ["not-an-address"],
            "leader_emails",
            "“not-an-address” is not a valid e-mail address.",
        ),
    ],
)
def test_a_team_that_cannot_be_formed_is_refused_with_a_message(organisation, chief, people, field, message):
    errors = rejected(create_team, organisation=organisation, chief_email=chief, leader_emails=people)
    assert errors[field] == [message]


# --- Renaming -----------------------------------------------------------------------------------


def test_a_name_hr_gives_a_team_survives_the_next_import(organisation):
    team = rename_team(team=active_team("leder.pleje@kommune.dk"), name="  Plejecentrene i Nord ")
    assert (team.name, team.named_by_hr) == ("Plejecentrene i Nord", True)
    # Next year's chart renames the unit and moves a leader: the team changes, the name stays.
    rows = [(*row[:3], "Pleje og Omsorg") if row[0] == "leder.pleje@kommune.dk" else row for row in CHART]
    reimport(rows)
    team.refresh_from_db()
    assert team.active and team.name == "Plejecentrene i Nord"
    # A team HR never named still follows its chief's unit.
    reimport([(*row[:3], "Skolerne") if row[0] == "chef.skole@kommune.dk" else row for row in CHART])
    assert active_team("chef.skole@kommune.dk").name == "Skolerne"


def test_an_empty_or_too_long_name_is_refused(organisation):
    team = active_team("leder.pleje@kommune.dk")
    assert rejected(rename_team, team=team, name="  ") == {"name": ["Give the team a name."]}
    assert rejected(rename_team, team=team, name="x" * 201) == {"name": ["The name can be at most 200 characters."]}


# --- Dissolving ---------------------------------------------------------------------------------


def test_dissolving_a_team_moves_its_leaders_to_the_manager_chosen(organisation):
    team = dissolve_team(
        organisation=organisation, team=active_team("leder.pleje@kommune.dk"), reports_to="chef.aeldre@kommune.dk"
    )
    assert team.active is False
    assert Person.objects.get(email="leder.pleje@kommune.dk").active  # the chief stays in the chart
    assert leaders(active_team("chef.aeldre@kommune.dk")) == {
        "leder.pleje@kommune.dk",
        "leder.hjemme@kommune.dk",
        "afd.solhaven@kommune.dk",
        "afd.egely@kommune.dk",
    }
    assert rejected(dissolve_team, organisation=organisation, team=team, reports_to="chef.aeldre@kommune.dk") == {
        None: ["The team “Plejecentre” has been dissolved."]
    }


@pytest.mark.parametrize(
    ("reports_to", "message"),
    [
        ("", "Choose who the team's leaders will report to."),
        (
            "leder.pleje@kommune.dk",
            "Pia Pleje (leder.pleje@kommune.dk) is the chief of the team being dissolved; choose someone else.",
        ),
        (
            "afd.egely@kommune.dk",
            "Bent Afdeling (afd.egely@kommune.dk) reports to Pia Pleje (leder.pleje@kommune.dk), directly or through others. Choose someone who does not, for example the manager of Pia Pleje (leder.pleje@kommune.dk).",
        ),
    ],
)
def test_a_team_cannot_be_dissolved_into_itself_or_without_a_new_manager(organisation, reports_to, message):
    errors = rejected(
        dissolve_team, organisation=organisation, team=active_team("leder.pleje@kommune.dk"), reports_to=reports_to
    )
    assert errors == {"reports_to": [message]}


# --- Admins -------------------------------------------------------------------------------------


def test_an_admin_is_added_by_address_with_an_account_made_if_needed(organisation):
    add_admin(email="hr@kommune.dk", organisation_slug="kommune")
    admin = add_organisation_admin(organisation=organisation, email=" Ny.HR@Kommune.dk ")
    assert admin.user.email == "ny.hr@kommune.dk" and not admin.user.has_usable_password()
    assert [a.user.email for a in organisation_admins(organisation=organisation)] == [
        "hr@kommune.dk",
        "ny.hr@kommune.dk",
    ]
    with pytest.raises(AdminError, match="already an admin"):
        add_organisation_admin(organisation=organisation, email="NY.HR@kommune.dk")
    with pytest.raises(AdminError, match="not a valid e-mail address"):
        add_organisation_admin(organisation=organisation, email="ny.hr")
    assert OrganisationAdmin.objects.filter(organisation=organisation).count() == 2


def test_an_admin_is_removed_but_never_the_last_one(organisation):
    _org, first = add_admin(email="hr@kommune.dk", organisation_slug="kommune")
    second = add_organisation_admin(organisation=organisation, email="ny.hr@kommune.dk")
    assert remove_organisation_admin(organisation=organisation, admin_id=second.pk) == second.user
    assert User.objects.filter(email="ny.hr@kommune.dk").exists()  # the account stays; only the role goes
    only = OrganisationAdmin.objects.get(organisation=organisation)
    with pytest.raises(AdminError, match="only admin"):
        remove_organisation_admin(organisation=organisation, admin_id=only.pk)
    assert OrganisationAdmin.objects.filter(organisation=organisation, user=first).exists()


def test_an_admin_of_another_organisation_cannot_be_removed_through_this_one(organisation):
    add_admin(email="hr@kommune.dk", organisation_slug="kommune")
    add_admin(email="a@andet.dk", organisation_slug="andet")
    other, _user = add_admin(email="b@andet.dk", organisation_slug="andet")
    foreign = OrganisationAdmin.objects.filter(organisation=other).first()
    with pytest.raises(OrganisationAdmin.DoesNotExist):
        remove_organisation_admin(organisation=organisation, admin_id=foreign.pk)
    assert OrganisationAdmin.objects.filter(organisation=other).count() == 2


def test_changes_to_a_team_are_refused_as_a_whole_not_half_applied(organisation):
    # One good leader and one bad: nobody moves.
    with pytest.raises(ChangeRejected):
        create_team(
            organisation=organisation,
            chief_email="afd.egely@kommune.dk",
            leader_emails=["afd.solhaven@kommune.dk", "chef.aeldre@kommune.dk"],
        )
    assert Person.objects.get(email="afd.solhaven@kommune.dk").manager.email == "leder.pleje@kommune.dk"
