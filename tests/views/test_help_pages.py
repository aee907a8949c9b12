"""Help where it is needed: a public page per role in Danish and English, and HR's first-run checklist."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from gensidig.services.access import add_admin
from gensidig.services.organisation.teams import ensure_login

from ..factories import closed_round, make_team
from .test_dialogue_views import text_of

pytestmark = pytest.mark.django_db

TITLES = {"leader": "Help for leaders", "chief": "Help for chiefs", "hr": "Help for HR"}


def in_language(message: str, language: str) -> str:
    with translation.override(language):
        return gettext(message)


@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("role", ["leader", "chief", "hr"])
def test_each_roles_help_page_is_open_to_anyone_in_either_language(client, role, language):
    client.cookies["django_language"] = language
    response = client.get(reverse("gensidig:help-role", args=[role]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert f"<h1>{in_language(TITLES[role], language)}</h1>" in html
    # The other roles' help is one click away.
    for other in set(TITLES) - {role}:
        assert f'href="{reverse("gensidig:help-role", args=[other])}"' in html


def test_the_help_is_written_in_danish_for_danes():
    """Every heading of the help pages has its Danish in the catalogue (English would show otherwise)."""
    for message in (*TITLES.values(), "Your anonymity, in plain words", "What HR can and cannot see", "Help"):
        assert in_language(message, "da") != message, message


def test_the_help_says_what_each_role_needs_to_know(client):
    client.cookies["django_language"] = "en"
    leader = text_of(client.get(reverse("gensidig:help-role", args=["leader"])))
    assert "never who" in leader and "not the comments" in leader
    chief = text_of(client.get(reverse("gensidig:help-role", args=["chief"])))
    for part in ("Meeting mode", "Where to concentrate", "Share the report", "anonymity threshold"):
        assert part in chief, part
    hr = text_of(client.get(reverse("gensidig:help-role", args=["hr"])))
    for part in ("manager_email", "leder_email", "privacy contact", "You cannot see"):
        assert part in hr, part


def test_the_help_index_leads_to_every_role_and_an_unknown_role_is_not_found(client):
    index = client.get(reverse("gensidig:help"))
    assert index.status_code == 200
    for role in TITLES:
        assert f'href="{reverse("gensidig:help-role", args=[role])}"' in index.content.decode()
    assert client.get(reverse("gensidig:help-role", args=["admin"])).status_code == 404


def test_every_page_links_the_help_and_each_role_finds_its_own_from_where_it_starts(client, team):
    help_index = f'href="{reverse("gensidig:help")}"'
    assert help_index in client.get(reverse("gensidig:about")).content.decode()

    client.force_login(team.chief.user)
    chief_home = client.get(reverse("gensidig:home")).content.decode()
    assert f'href="{reverse("gensidig:help-role", args=["chief"])}"' in chief_home

    round_ = closed_round(team, answering=6)
    leader = round_.invitations.filter(role="leader").first().person
    client.force_login(ensure_login(person=leader))
    leader_home = client.get(reverse("gensidig:home")).content.decode()
    assert f'href="{reverse("gensidig:help-role", args=["leader"])}"' in leader_home

    _organisation, hr = add_admin(email="hr@kommune.example", organisation_slug=team.organisation.slug)
    client.force_login(hr)
    hr_help = f'href="{reverse("gensidig:help-role", args=["hr"])}"'
    assert hr_help in client.get(reverse("gensidig:home")).content.decode()
    assert hr_help in client.get(reverse("gensidig:org", args=[team.organisation.slug])).content.decode()


# --- HR's first-run checklist -------------------------------------------------------------------


def checklist_of(client, slug):
    page = client.get(reverse("gensidig:org", args=[slug]))
    assert page.status_code == 200
    return page


def test_hrs_page_shows_the_first_run_checklist_until_all_three_steps_are_done(client):
    organisation, hr = add_admin(email="hr@ny.example", organisation_slug="ny", organisation_name="Ny Kommune")
    client.force_login(hr)
    client.cookies["django_language"] = "en"
    page = checklist_of(client, "ny")
    steps = page.context["checklist"].steps
    assert [(step.key, step.done) for step in steps] == [("import", False), ("settings", False), ("campaign", False)]
    html = page.content.decode()
    assert 'aria-labelledby="checklist-heading"' in html
    for name in ("org-import", "org-settings", "campaign-new"):
        assert f'href="{reverse(f"gensidig:{name}", args=["ny"])}"' in html
    assert text_of(page).count("Not done yet") == 3

    team = make_team(leaders=5, organisation=organisation)  # the chart has people now
    organisation.privacy_contact = "dpo@ny.example"
    organisation.save()
    page = checklist_of(client, "ny")
    assert [step.done for step in page.context["checklist"].steps] == [True, True, False]
    assert text_of(page).count("Not done yet") == 1

    client.post(
        reverse("gensidig:campaign-new", args=["ny"]),
        {
            "name": "Første",
            "branch": team.pk,
            "opens_on": timezone.localdate().isoformat(),
            "closes_on": (timezone.localdate() + datetime.timedelta(days=14)).isoformat(),
        },
    )
    page = checklist_of(client, "ny")
    assert page.context["checklist"].done
    assert "checklist-heading" not in page.content.decode()
