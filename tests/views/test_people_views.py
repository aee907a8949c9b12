"""HR's pages for people, teams and admins, the people export and the import's guard, used as HR would."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from gensidig.models import OrganisationAdmin, Person, Team, User
from gensidig.services.access import add_admin
from gensidig.services.organisation.chart import apply_import, plan_import, read_chart

pytestmark = pytest.mark.django_db

ROWS = [
    ("top@k.dk", "Tove Top", "", "Direktionen"),
    ("chef1@k.dk", "Chef Et", "top@k.dk", "Område 1"),
    ("chef2@k.dk", "Chef To", "top@k.dk", "Område 2"),
    *[(f"l1{i}@k.dk", f"Leder 1{i}", "chef1@k.dk", "Område 1") for i in range(4)],
    *[(f"l2{i}@k.dk", f"Leder 2{i}", "chef2@k.dk", "Område 2") for i in range(4)],
]
SAMPLES = Path(__file__).resolve().parents[2] / "gensidig" / "static" / "gensidig" / "samples"


def csv_bytes(rows=ROWS) -> bytes:
    return ("email;name;manager_email;unit\n" + "\n".join(";".join(row) for row in rows)).encode()


@pytest.fixture
def hr(client):
    apply_import(
        organisation_slug="k", organisation_name="Kommune K", chart=read_chart(data=csv_bytes(), filename="k.csv")
    )
    _organisation, user = add_admin(email="hr@k.dk", organisation_slug="k")
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def url(name: str, *args) -> str:
    return reverse(f"gensidig:{name}", args=["k", *args])


def person(email: str) -> Person:
    return Person.objects.get(organisation__slug="k", email=email)


def team(chief: str) -> Team | None:
    return Team.objects.filter(organisation__slug="k", chief__email=chief, active=True).first()


def page(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def errors(response) -> str:
    """The error summary's text."""
    text = page(response)
    start = text.index('id="error-summary"')
    return text[start : text.index("</div>", start)]


# --- People -------------------------------------------------------------------------------------


def test_hr_adds_a_person_and_the_managers_new_team_follows(hr):
    form = hr.get(url("org-person-new"))
    assert form.status_code == 200 and 'list="active-people"' in page(form) and "l10@k.dk" in page(form)
    response = hr.post(
        url("org-person-new"),
        {
            "name": "Nina Ny",
            "email": "Nina@K.dk",
            "title": "",
            "unit": "Afsnit N",
            "language": "da",
            "manager_email": "l10@k.dk",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0].startswith(url("org-people") + "?q=nina%40k.dk")
    assert "Nina Ny is added to the org chart." in messages_of(response)
    assert "nina@k.dk" in page(response)
    assert person("nina@k.dk").manager == person("l10@k.dk")
    assert set(team("l10@k.dk").leaders.values_list("email", flat=True)) == {"nina@k.dk"}


def test_an_address_someone_has_in_another_letter_case_gets_a_400_with_the_message_on_the_field(hr):
    response = hr.post(url("org-person-new"), {"name": "X", "email": "L10@K.DK", "language": "da", "manager_email": ""})
    assert response.status_code == 400
    assert "already has this e-mail address" in errors(response)
    assert 'href="#id_email"' in errors(response)
    assert Person.objects.filter(organisation__slug="k").count() == len(ROWS)


def test_moving_a_manager_shows_on_the_teams_page(hr):
    edit = hr.get(url("org-person", person("l13@k.dk").pk))
    assert edit.status_code == 200 and 'value="chef1@k.dk"' in page(edit)
    data = {"name": "Leder 13", "email": "l13@k.dk", "title": "", "unit": "Område 1", "language": "da"}
    response = hr.post(url("org-person", person("l13@k.dk").pk), {**data, "manager_email": "chef2@k.dk"})
    assert response.status_code == 302
    assert person("l13@k.dk").manager == person("chef2@k.dk")
    assert team("chef1@k.dk").leaders.count() == 3 and team("chef2@k.dk").leaders.count() == 5
    teams = page(hr.get(url("org-teams")))
    assert teams.index("Område 2") < teams.index(">5<", teams.index("Område 2"))


def test_a_circle_is_refused_with_a_400_and_changes_nothing(hr):
    data = {"name": "Chef Et", "email": "chef1@k.dk", "title": "", "unit": "Område 1", "language": "da"}
    response = hr.post(url("org-person", person("chef1@k.dk").pk), {**data, "manager_email": "l10@k.dk"})
    assert response.status_code == 400
    assert "go round in a circle" in errors(response)
    assert person("chef1@k.dk").manager == person("top@k.dk")


def test_deactivating_a_chief_asks_who_their_reports_report_to_and_suggests_their_manager(hr):
    chief = person("chef1@k.dk")
    confirm = hr.get(url("org-person-deactivate", chief.pk))
    assert confirm.status_code == 200
    assert 'value="top@k.dk"' in page(confirm) and "4 people report to them" in page(confirm)
    refused = hr.post(url("org-person-deactivate", chief.pk), {"reports_to": ""})
    assert refused.status_code == 400 and "choose who they will report to instead" in errors(refused)
    assert person("chef1@k.dk").active
    done = hr.post(url("org-person-deactivate", chief.pk), {"reports_to": "top@k.dk"}, follow=True)
    assert "will not be invited" in messages_of(done)[0]
    assert not person("chef1@k.dk").active and team("chef1@k.dk") is None
    assert person("l10@k.dk").manager == person("top@k.dk")
    # The list offers to bring them back, and so they come back.
    listing = page(hr.get(url("org-people")))
    assert url("org-person-reactivate", chief.pk) in listing
    back = hr.post(url("org-person-reactivate", chief.pk), {"manager_email": "top@k.dk"})
    assert back.status_code == 302 and person("chef1@k.dk").active


def test_a_person_of_another_organisation_or_no_person_at_all_is_a_404(hr):
    add_admin(email="hr@andet.dk", organisation_slug="andet")
    foreign = Person.objects.create(
        organisation=OrganisationAdmin.objects.get(user__email="hr@andet.dk").organisation, email="x@andet.dk"
    )
    for path in (
        url("org-person", foreign.pk),
        url("org-person-deactivate", foreign.pk),
        url("org-person", 10**30),
        "/org/k/people/99999999999999999999999/deactivate/",
    ):
        assert hr.get(path).status_code == 404, path
        assert hr.post(path, {"reports_to": "top@k.dk"}).status_code == 404, path


def test_another_organisations_admin_gets_a_404_for_every_page_here(client, hr):
    _org, other = add_admin(email="hr@andet.dk", organisation_slug="andet")
    client.force_login(other)
    pk = person("l10@k.dk").pk
    public_id = team("chef1@k.dk").public_id
    for path in (
        url("org-person-new"),
        url("org-person", pk),
        url("org-person-deactivate", pk),
        url("org-person-reactivate", pk),
        url("org-people-csv"),
        url("org-team-new"),
        url("org-team-rename", public_id),
        url("org-team-dissolve", public_id),
        url("org-admins"),
    ):
        assert client.get(path).status_code == 404, path
    assert (
        client.post(
            url("org-admin-remove"), {"admin": OrganisationAdmin.objects.get(user__email="hr@k.dk").pk}
        ).status_code
        == 404
    )
    assert client.post(url("org-person-deactivate", pk), {"reports_to": ""}).status_code == 404
    assert person("l10@k.dk").active


# --- Teams --------------------------------------------------------------------------------------


def test_hr_creates_renames_and_dissolves_a_team(hr):
    created = hr.post(
        url("org-team-new"),
        {"chief_email": "l10@k.dk", "leader_emails": "l11@k.dk\nL12@k.dk, l11@k.dk", "name": "Nyt team"},
        follow=True,
    )
    assert "The team “Nyt team” is formed." in messages_of(created)
    new = team("l10@k.dk")
    assert new.named_by_hr and set(new.leaders.values_list("email", flat=True)) == {"l11@k.dk", "l12@k.dk"}
    assert "Nyt team" in page(created)

    renamed = hr.post(url("org-team-rename", new.public_id), {"name": "Team Ti"}, follow=True)
    assert "“Nyt team” is now called “Team Ti”." in messages_of(renamed)

    form = hr.get(url("org-team-dissolve", new.public_id))
    assert 'value="chef1@k.dk"' in page(form)  # the chief's own manager is suggested
    dissolved = hr.post(url("org-team-dissolve", new.public_id), {"reports_to": "chef1@k.dk"}, follow=True)
    assert "The team “Team Ti” is dissolved." in messages_of(dissolved)
    assert team("l10@k.dk") is None and person("l11@k.dk").manager == person("chef1@k.dk")
    # A dissolved team has no pages to change it.
    assert hr.get(url("org-team-rename", new.public_id)).status_code == 404


def test_a_team_that_cannot_be_formed_gets_a_400_with_the_reasons(hr):
    response = hr.post(url("org-team-new"), {"chief_email": "l10@k.dk", "leader_emails": "chef1@k.dk nobody@k.dk"})
    assert response.status_code == 400
    summary = errors(response)
    assert (
        "go round in a circle" in summary and "Nobody in the org chart has the e-mail address nobody@k.dk." in summary
    )
    assert team("l10@k.dk") is None
    empty = hr.post(url("org-team-rename", team("chef1@k.dk").public_id), {"name": " "})
    assert empty.status_code == 400 and "Give the team a name." in errors(empty)


# --- Admins -------------------------------------------------------------------------------------


def test_hr_makes_another_admin_and_removes_them_but_never_the_last(hr):
    listing = hr.get(url("org-admins"))
    assert listing.status_code == 200 and "The only admin" in page(listing)
    added = hr.post(url("org-admins"), {"email": "Ny.HR@k.dk"}, follow=True)
    assert "ny.hr@k.dk is now an admin." in messages_of(added)[0]
    assert OrganisationAdmin.objects.filter(organisation__slug="k").count() == 2
    again = hr.post(url("org-admins"), {"email": "ny.hr@k.dk"})
    assert again.status_code == 400 and "already an admin" in errors(again)
    bad = hr.post(url("org-admins"), {"email": "ny.hr"})
    assert bad.status_code == 400 and "not a valid e-mail address" in errors(bad)

    other = OrganisationAdmin.objects.get(user__email="ny.hr@k.dk")
    removed = hr.post(url("org-admin-remove"), {"admin": other.pk}, follow=True)
    assert "ny.hr@k.dk is no longer an admin." in messages_of(removed)
    last = OrganisationAdmin.objects.get(organisation__slug="k")
    refused = hr.post(url("org-admin-remove"), {"admin": last.pk})
    assert refused.status_code == 400 and "only admin" in page(refused)
    assert OrganisationAdmin.objects.filter(organisation__slug="k").count() == 1
    for junk in ("", "abc", "9" * 40, str(other.pk)):
        assert hr.post(url("org-admin-remove"), {"admin": junk}).status_code == 404, junk


def test_an_admin_who_removes_themself_goes_home_and_loses_the_pages(hr):
    hr.post(url("org-admins"), {"email": "ny.hr@k.dk"})
    me = OrganisationAdmin.objects.get(user__email="hr@k.dk")
    response = hr.post(url("org-admin-remove"), {"admin": me.pk})
    assert response.status_code == 302 and response["Location"] == reverse("gensidig:home")
    assert hr.get(url("org")).status_code == 404
    assert User.objects.filter(email="hr@k.dk").exists()


# --- The export ---------------------------------------------------------------------------------


def test_the_exports_download_and_import_again_unchanged(hr):
    organisation = person("top@k.dk").organisation
    csv_response = hr.get(url("org-people-csv"))
    assert csv_response.status_code == 200 and csv_response["Content-Type"].startswith("text/csv")
    assert csv_response["Content-Disposition"] == 'attachment; filename="gensidig-k-people.csv"'
    assert csv_response["Cache-Control"] == "no-store, private"
    xlsx_response = hr.get(url("org-people-xlsx"))
    assert xlsx_response["Content-Disposition"] == 'attachment; filename="gensidig-k-people.xlsx"'
    for data, name in ((csv_response.content, "p.csv"), (xlsx_response.content, "p.xlsx")):
        chart = read_chart(data=data, filename=name)
        assert chart.errors == [] and len(chart.rows) == len(ROWS)
        assert not plan_import(organisation=organisation, chart=chart).has_changes


def test_the_export_with_those_who_left_marks_them(hr):
    hr.post(url("org-person-deactivate", person("l13@k.dk").pk), {"reports_to": ""})
    assert b"l13@k.dk" not in hr.get(url("org-people-csv")).content
    sheet = openpyxl.load_workbook(io.BytesIO(hr.get(url("org-people-xlsx") + "?inactive=1").content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-1] == "Status"
    assert ("l13@k.dk", "Leder 13", None, "Område 1", None, "da", "Left") in rows


# --- Import: column names, sample files, and a chart that makes many leave ----------------------


def test_the_upload_page_lists_the_columns_in_both_languages_and_links_the_samples(hr):
    text = page(hr.get(url("org-import")))
    for name in ("manager_email", "leders e-mail", "enhed", "sprog", "language", "Required", "Optional"):
        assert name in text, name
    assert "/static/gensidig/samples/organisationsdiagram.csv" in text
    assert "/static/gensidig/samples/org-chart.csv" in text


@pytest.mark.parametrize("sample", ["organisationsdiagram.csv", "org-chart.csv"])
def test_the_sample_files_are_charts_the_import_takes(sample):
    with translation.override("en"):
        chart = read_chart(data=(SAMPLES / sample).read_bytes(), filename=sample)
    assert chart.errors == [] and chart.has_title and chart.has_language and len(chart.rows) == 10
    assert any("æ" in row.name.lower() or "ø" in row.name.lower() for row in chart.rows)


def upload_partial(hr):
    # 7 of 11 people: 4 leave, more than a tenth.
    upload = hr.post(url("org-import"), {"chart": SimpleUploadedFile("del.csv", csv_bytes(ROWS[:7]))})
    return upload["Location"]


def test_a_partial_chart_is_not_applied_without_confirming_how_many_leave(hr, settings):
    settings.GENSIDIG_IMPORT_CONFIRM_LEAVING_SHARE = 0.10
    preview = upload_partial(hr)
    shown = hr.get(preview)
    assert "This import makes 4 of 11 people leave the org chart" in page(shown)
    assert 'name="confirm_leaving"' in page(shown) and 'value="4"' in page(shown)
    refused = hr.post(preview)
    assert refused.status_code == 400
    assert "Confirm that 4 people leave the org chart" in errors(refused)
    assert Person.objects.filter(organisation__slug="k", active=True).count() == 11
    wrong = hr.post(preview, {"confirm_leaving": "3"})
    assert wrong.status_code == 400 and Person.objects.filter(organisation__slug="k", active=True).count() == 11
    applied = hr.post(preview, {"confirm_leaving": "4"})
    assert applied.status_code == 302
    assert Person.objects.filter(organisation__slug="k", active=True).count() == 7


def test_a_chart_that_makes_few_leave_applies_with_one_click(hr, settings):
    settings.GENSIDIG_IMPORT_CONFIRM_LEAVING_SHARE = 0.5
    preview = upload_partial(hr)
    assert 'name="confirm_leaving"' not in page(hr.get(preview))
    assert hr.post(preview).status_code == 302
    assert Person.objects.filter(organisation__slug="k", active=True).count() == 7


def test_a_confirmation_in_digits_int_refuses_is_no_confirmation_and_no_server_error(hr, settings):
    # "²" is a digit to str.isdigit() and not to int().
    settings.GENSIDIG_IMPORT_CONFIRM_LEAVING_SHARE = 0.10
    preview = upload_partial(hr)
    for odd in ("²", "4²"):
        refused = hr.post(preview, {"confirm_leaving": odd})
        assert refused.status_code == 400 and "Confirm that 4 people leave the org chart" in errors(refused)
        assert Person.objects.filter(organisation__slug="k", active=True).count() == 11


def test_an_admin_to_remove_given_in_digits_int_refuses_is_a_404(hr):
    hr.post(url("org-admins"), {"email": "ny.hr@k.dk"})
    for junk in ("²", "1²"):
        assert hr.post(url("org-admin-remove"), {"admin": junk}).status_code == 404, junk
    assert OrganisationAdmin.objects.filter(organisation__slug="k").count() == 2
