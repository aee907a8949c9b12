"""Agreements in the room: editing one, and recording one from meeting mode without leaving it."""

import datetime
import re

import pytest
from django.urls import reverse

from gensidig.models import Agreement, AgreementOwner, AgreementStatus
from gensidig.services.agreements import record_agreement
from gensidig.services.survey.instruments import framework_for

from ..factories import closed_round, make_team
from .test_dialogue_views import leader_client, text_of, theme_of, url
from .test_report_views import leader_value

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def sign_in(client, team):
    client.force_login(team.chief.user)
    return client


@pytest.fixture
def closed(team):
    return closed_round(team, answering=6, value=leader_value, chief_value=4)


@pytest.fixture
def agreement(closed):
    return record_agreement(round_=closed, theme_key="direction", text="Månedlig retningsdag", owner="team")


def agreements_step(client, round_) -> int:
    steps = client.get(url("guide", round_)).context["guide"].steps
    return next(number for number, step in enumerate(steps, start=1) if step.kind == "agreements")


# --- Editing an agreement ----------------------------------------------------------------------


def test_the_chief_edits_an_agreement_and_the_form_starts_from_what_it_says(client, team, closed, agreement):
    sign_in(client, team)
    agreements_page = client.get(url("agreements", closed)).content.decode()
    edit = url("agreement-edit", closed, agreement.public_id)
    assert f'href="{edit}"' in agreements_page

    page = client.get(edit)
    assert page.status_code == 200
    assert "Månedlig retningsdag" in page.content.decode()  # pre-filled
    assert theme_of(closed, "direction").title in text_of(page)

    leader = closed.invitations.filter(role="leader").first().person
    need = theme_of(closed, "direction").needs[0].key
    response = client.post(
        edit,
        {
            "items": [need],
            "text": "Retningsdag hver anden måned",
            "owner": "leader",
            "leader": str(leader.pk),
            "due_on": "2027-05-01",
        },
    )
    assert response.status_code == 302
    assert response["Location"].startswith(url("agreements", closed))
    agreement.refresh_from_db()
    assert (agreement.text, agreement.item_keys, agreement.owner, agreement.owner_person, agreement.due_on) == (
        "Retningsdag hver anden måned",
        [need],
        AgreementOwner.LEADER,
        leader,
        datetime.date(2027, 5, 1),
    )
    # Its theme and status stay.
    assert (agreement.theme_key, agreement.status) == ("direction", AgreementStatus.AGREED)
    assert "Retningsdag hver anden måned" in text_of(client.get(url("agreements", closed)))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"text": ""}, "Skriv"),
        ({"text": "x" * 1001}, "1000"),
        ({"owner": "leader", "leader": ""}, "leder"),
        ({"items": ["__other_theme__"]}, "gyldig"),
        ({"due_on": "i morgen"}, "dato"),
    ],
)
def test_an_edit_that_cannot_be_saved_says_why_and_changes_nothing(client, team, closed, agreement, change, message):
    sign_in(client, team)
    data = {"text": "Noget andet", "owner": "team", **change}
    if data.get("items") == ["__other_theme__"]:
        data["items"] = [theme_of(closed, "sparring").needs[0].key]
    response = client.post(url("agreement-edit", closed, agreement.public_id), data)
    assert response.status_code == 400
    assert 'id="error-summary"' in response.content.decode()
    assert message in text_of(response)
    agreement.refresh_from_db()
    assert agreement.text == "Månedlig retningsdag"


def test_only_the_chief_of_the_round_can_edit_its_agreements(client, team, closed, agreement, outsider):
    edit = url("agreement-edit", closed, agreement.public_id)
    other = make_team(leaders=6)
    sign_in(client, other)
    assert client.get(edit).status_code == 404
    assert client.post(edit, {"text": "Kapret", "owner": "team"}).status_code == 404
    client.force_login(outsider)
    assert client.post(edit, {"text": "Kapret", "owner": "team"}).status_code == 404
    leader_client(client, closed)
    assert client.get(edit).status_code == 404
    agreement.refresh_from_db()
    assert agreement.text == "Månedlig retningsdag"


def test_another_rounds_agreement_cannot_be_edited_through_this_round(client, team, closed):
    other = make_team(leaders=6)
    theirs = record_agreement(
        round_=closed_round(other, answering=6), theme_key="direction", text="Deres aftale", owner="team"
    )
    earlier = record_agreement(round_=closed, theme_key="direction", text="Sidste gang", owner="team")
    follow_up = closed_round(team, answering=6)
    sign_in(client, team)
    for foreign in (theirs, earlier):
        response = client.post(url("agreement-edit", follow_up, foreign.public_id), {"text": "Nyt", "owner": "team"})
        assert response.status_code == 404
        foreign.refresh_from_db()
        assert foreign.text != "Nyt"
    # Last round's agreement is followed up on this round's page, but only edited on its own round's.
    page = client.get(url("agreements", follow_up)).content.decode()
    assert url("agreement-edit", follow_up, earlier.public_id) not in page
    assert url("agreement-edit", closed, earlier.public_id) not in page


def test_a_shared_report_gives_the_leaders_no_edit_link(client, team, closed, agreement):
    sign_in(client, team)
    client.post(url("share", closed), {"share": "yes"})
    leader_client(client, closed)
    for page in ("team-report", "team-report-theme"):
        args = [closed.public_id] + (["direction"] if page == "team-report-theme" else [])
        response = client.get(reverse(f"gensidig:{page}", args=args))
        assert "Månedlig retningsdag" in text_of(response)
        assert "/edit/" not in response.content.decode()


# --- Recording in meeting mode -----------------------------------------------------------------


def test_meeting_modes_agreements_step_has_a_form_to_record_one(client, team, closed):
    sign_in(client, team)
    step = agreements_step(client, closed)
    page = client.get(url("guide-present-step", closed, step))
    html = page.content.decode()
    record = url("guide-present-agreement", closed, step)
    assert f'action="{record}"' in html and f'hx-post="{record}"' in html
    assert 'aria-labelledby="record-heading"' in html
    guide_themes = [item.theme.key for item in page.context["guide"].themes]
    assert [value for value, _label in page.context["form"].fields["theme"].choices] == guide_themes
    assert 'role="status"' in html
    # The other steps have no form.
    assert "record-heading" not in client.get(url("guide-present-step", closed, 1)).content.decode()


def test_without_javascript_the_form_posts_and_the_same_step_shows_the_agreement(client, team, closed):
    sign_in(client, team)
    step = agreements_step(client, closed)
    theme = client.get(url("guide", closed)).context["guide"].themes[1].theme.key
    response = client.post(
        url("guide-present-agreement", closed, step),
        {"theme": theme, "text": "Vi holder sparringsmøde hver måned", "owner": "chief", "due_on": "2027-02-01"},
    )
    assert response.status_code == 302
    assert response["Location"] == url("guide-present-step", closed, step) + "#agreement-recorded"
    agreement = Agreement.objects.get(round=closed)
    assert (agreement.theme_key, agreement.owner, agreement.item_keys) == (theme, AgreementOwner.CHIEF, [])
    page = client.get(response["Location"])
    text = text_of(page)
    assert "Vi holder sparringsmøde hver måned" in text
    assert "Aftalen er skrevet ned." in text  # the status line says so


def test_with_htmx_the_answer_is_the_list_and_a_fresh_form(client, team, closed):
    sign_in(client, team)
    step = agreements_step(client, closed)
    theme = client.get(url("guide", closed)).context["guide"].themes[0].theme.key
    response = client.post(
        url("guide-present-agreement", closed, step),
        {"theme": theme, "text": "Dagsorden sendes ud tre dage før", "owner": "team"},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="present-agreements"')  # a fragment, not a page
    assert "<html" not in html
    assert "Dagsorden sendes ud tre dage før" in text_of(response)
    # The form comes back empty, and the status line is filled in out of band.
    assert response.context["form"].is_bound is False
    assert re.search(r'<textarea[^>]*name="text"[^>]*></textarea>', html)
    assert 'id="agreement-recorded" hx-swap-oob="innerHTML">Aftalen er skrevet ned.<' in html
    assert Agreement.objects.filter(round=closed, theme_key=theme).count() == 1


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize(
    "change, message",
    [
        ({"text": "  "}, "Skriv"),
        ({"theme": "no-such-theme"}, "gyldig"),
        ({"owner": "leader", "leader": ""}, "leder"),
        ({"due_on": "snart"}, "dato"),
    ],
)
def test_a_meeting_mode_agreement_that_cannot_be_recorded_says_why_in_the_form(
    client, team, closed, htmx, change, message
):
    sign_in(client, team)
    step = agreements_step(client, closed)
    theme = client.get(url("guide", closed)).context["guide"].themes[0].theme.key
    data = {"theme": theme, "text": "Noget", "owner": "team", **change}
    response = client.post(url("guide-present-agreement", closed, step), data, **(HTMX if htmx else {}))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert message in text_of(response)
    assert ("<html" in html) is not htmx  # the whole step without JavaScript, the fragment with htmx
    assert not Agreement.objects.exists()


def test_a_theme_outside_the_guide_is_refused_in_meeting_mode(client, team, closed):
    sign_in(client, team)
    step = agreements_step(client, closed)
    guide_themes = {item.theme.key for item in client.get(url("guide", closed)).context["guide"].themes}
    other = next(t.key for t in framework_for(closed.instrument, "da").themes if t.key not in guide_themes)
    response = client.post(url("guide-present-agreement", closed, step), {"theme": other, "text": "X", "owner": "team"})
    assert response.status_code == 400
    assert not Agreement.objects.exists()


def test_only_the_agreements_step_records_and_only_for_the_rounds_chief(client, team, closed, outsider):
    sign_in(client, team)
    step = agreements_step(client, closed)
    theme = client.get(url("guide", closed)).context["guide"].themes[0].theme.key
    data = {"theme": theme, "text": "Noget", "owner": "team"}
    assert client.post(url("guide-present-agreement", closed, 1), data).status_code == 404
    assert client.post(url("guide-present-agreement", closed, 99), data).status_code == 404
    assert client.get(url("guide-present-agreement", closed, step)).status_code == 405
    sign_in(client, make_team(leaders=6))
    assert client.post(url("guide-present-agreement", closed, step), data).status_code == 404
    leader_client(client, closed)
    assert client.post(url("guide-present-agreement", closed, step), data, **HTMX).status_code == 404
    assert not Agreement.objects.exists()
