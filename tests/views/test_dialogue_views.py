"""The meeting guide, meeting mode, agreements and sharing, as the chief and the leaders use them."""

import re

import pytest
from django.urls import reverse

from gensidig.models import Agreement, AgreementStatus, MeetingGuide, Round
from gensidig.services.organisation.teams import ensure_login
from gensidig.services.survey.instruments import framework_for

from ..factories import closed_round, make_team, start_round
from .test_report_views import leader_value, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(team):
    return closed_round(team, answering=6, value=leader_value, chief_value=4, comments={"direction": "Kun til chefen"})


def url(name, round_, *args):
    return reverse(f"gensidig:{name}", args=[round_.public_id, *args])


def text_of(response) -> str:
    """The page's visible text, whitespace folded, for asserting what a reader sees."""
    body = re.sub(r"<script.*?</script>|<style.*?</style>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def theme_of(round_, key, language="da"):
    return next(t for t in framework_for(round_.instrument, language).themes if t.key == key)


def test_the_guide_of_a_two_hour_meeting_starts_from_the_report(client, team, closed):
    sign_in(client, team)
    response = client.get(url("guide", closed))
    assert response.status_code == 200
    guide = response.context["guide"]
    assert [step.kind for step in guide.steps] == ["welcome", "differences", "theme", "theme", "agreements", "close"]
    assert guide.steps[-1].start + guide.steps[-1].minutes == 120
    assert guide.themes[0].theme.key == "direction"  # the report's first focus theme
    direction = theme_of(closed, "direction")
    text = text_of(response)
    for part in (
        direction.practices[0],
        direction.risks[0],
        direction.dilemmas[0],
        direction.reflection_leaders[0],
        direction.reflection_chief[0],
        direction.expectations[0].title,
    ):
        assert part in text
    for difference in framework_for(closed.instrument, "da").differences:
        assert difference.title in text
    assert "Kun til chefen" not in text  # comments stay in the report
    assert 'role="img"' in response.content.decode()


def test_the_chief_picks_a_half_day_and_the_themes(client, team, closed):
    sign_in(client, team)
    response = client.post(url("guide", closed), {"format": "half_day", "themes": ["teamwork", "autonomy", "sparring"]})
    assert response.status_code == 302
    guide = client.get(url("guide", closed)).context["guide"]
    assert [t.theme.key for t in guide.themes] == ["teamwork", "autonomy", "sparring"]
    assert [step.kind for step in guide.steps] == [
        "welcome",
        "differences",
        "theme",
        "theme",
        "break",
        "theme",
        "agreements",
        "close",
    ]
    assert guide.steps[-1].start + guide.steps[-1].minutes == 210
    assert guide.chosen_by_chief


@pytest.mark.parametrize(
    "data, message",
    [
        (
            {"format": "half_day", "themes": ["direction", "autonomy", "sparring", "teamwork", "strengths"]},
            "højst fire",
        ),
        ({"format": "all_week", "themes": []}, "gyldig"),
        ({"format": "two_hours", "themes": ["no-such-theme"]}, "gyldig"),
    ],
)
def test_a_guide_that_cannot_be_set_up_says_why(client, team, closed, data, message):
    sign_in(client, team)
    response = client.post(url("guide", closed), data)
    assert response.status_code == 400
    assert message in text_of(response)
    assert not MeetingGuide.objects.filter(round=closed).exists()


def test_meeting_mode_shows_one_step_per_screen_with_links_both_ways(client, team, closed):
    sign_in(client, team)
    steps = client.get(url("guide", closed)).context["guide"].steps
    first = client.get(url("guide-present", closed))
    assert first.status_code == 200 and first.context["number"] == 1
    assert 'rel="next"' in first.content.decode() and 'rel="prev"' not in first.content.decode()
    theme_screen = client.get(url("guide-present-step", closed, 3))
    assert theme_screen.context["step"].kind == "theme"
    assert 'role="img"' in theme_screen.content.decode()
    last = client.get(url("guide-present-step", closed, len(steps)))
    assert 'rel="prev"' in last.content.decode() and 'rel="next"' not in last.content.decode()
    for beyond in (0, len(steps) + 1):
        assert client.get(url("guide-present-step", closed, beyond)).status_code == 404


def test_a_team_under_the_threshold_still_gets_the_guide_without_the_leaders_figures(client):
    team = make_team(leaders=8)
    round_ = closed_round(
        team, answering=3, value=5, chief_value=lambda key, scale: 1 if key.startswith("sparring") else 4
    )
    sign_in(client, team)
    response = client.get(url("guide", round_))
    guide = response.context["guide"]
    assert guide.themes[0].theme.key == "sparring"  # where the chief rated themself lowest
    assert "Too few leaders answered" in text_of(response) or "For få ledere" in text_of(response)
    assert all(t.report.stat.importance is None for t in guide.themes)
    for step in range(1, len(guide.steps) + 1):
        screen = client.get(url("guide-present-step", round_, step))
        assert screen.status_code == 200
        assert "5,0" not in text_of(screen)  # the leaders all answered 5: nothing of it shows


def test_there_is_no_guide_before_the_round_closes(client, team):
    round_, _links = start_round(team)
    sign_in(client, team)
    for name in ("guide", "guide-present", "agreements"):
        assert client.get(url(name, round_)).status_code == 404


def test_the_chief_writes_down_agreements_and_updates_their_status(client, team, closed):
    sign_in(client, team)
    leader = closed.invitations.filter(role="leader").first().person
    need_key = theme_of(closed, "direction").needs[0].key
    response = client.post(
        url("agreements", closed),
        {
            "theme": "direction",
            "items": [need_key],
            "text": "Månedlig retningsdag",
            "owner": "leader",
            "leader": str(leader.pk),
            "due_on": "2027-03-01",
        },
    )
    assert response.status_code == 302
    agreement = Agreement.objects.get(round=closed)
    assert (agreement.owner_person, agreement.item_keys, str(agreement.due_on)) == (leader, [need_key], "2027-03-01")
    page = client.get(url("agreements", closed))
    assert "Månedlig retningsdag" in text_of(page) and leader.name in text_of(page)
    client.post(url("agreement-status", closed, agreement.public_id), {"status": "done"})
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.DONE
    # The report's theme page shows it, and so does the guide.
    assert "Månedlig retningsdag" in text_of(client.get(url("report-theme", closed, "direction")))
    assert "Månedlig retningsdag" in text_of(client.get(url("guide", closed)))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"text": ""}, "Skriv"),
        ({"text": "x" * 1001}, "1000"),
        ({"owner": "leader", "leader": ""}, "leder"),
        ({"items": ["__other_theme__"]}, "gyldig"),
        ({"theme": "nowhere"}, "gyldig"),
        ({"due_on": "i morgen"}, "dato"),
    ],
)
def test_an_agreement_that_cannot_be_recorded_says_why_and_stores_nothing(client, team, closed, change, message):
    sign_in(client, team)
    data = {"theme": "direction", "text": "Noget", "owner": "team", **change}
    if data.get("items") == ["__other_theme__"]:
        data["items"] = [theme_of(closed, "sparring").needs[0].key]
    response = client.post(url("agreements", closed), data)
    assert response.status_code == 400
    assert message in text_of(response)
    assert not Agreement.objects.exists()


def test_an_agreement_can_only_name_a_leader_of_this_round(client, team, closed):
    other = make_team(leaders=5)
    stranger = other.memberships.first().person
    sign_in(client, team)
    response = client.post(
        url("agreements", closed), {"theme": "direction", "text": "Noget", "owner": "leader", "leader": stranger.pk}
    )
    assert response.status_code == 400
    assert not Agreement.objects.exists()


def test_a_status_cannot_be_set_on_another_teams_agreement(client, team, closed):
    other = make_team(leaders=6)
    theirs = closed_round(other, answering=6)
    agreement = Agreement.objects.create(round=theirs, theme_key="direction", text="Deres")
    sign_in(client, team)
    response = client.post(url("agreement-status", closed, agreement.public_id), {"status": "dropped"})
    assert response.status_code == 404
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.AGREED


def leader_client(client, round_):
    person = round_.invitations.filter(role="leader").first().person
    client.force_login(ensure_login(person=person))
    return client


def test_a_shared_report_shows_the_leaders_the_chiefs_figures_but_never_the_comments(client, team, closed):
    sign_in(client, team)
    client.post(url("agreements", closed), {"theme": "direction", "text": "Fælles plan", "owner": "team"})
    client.post(url("share", closed), {"share": "yes"})
    assert Round.objects.get(pk=closed.pk).shared_on is not None
    chief_view = client.get(url("report-theme", closed, "direction")).context["theme"]
    leader_client(client, closed)
    overview = client.get(reverse("gensidig:team-report", args=[closed.public_id]))
    assert overview.status_code == 200
    assert "Fælles plan" in text_of(overview)
    page = client.get(reverse("gensidig:team-report-theme", args=[closed.public_id, "direction"]))
    theme = page.context["theme"]
    assert [(n.importance.mean, n.experience.mean, n.chief_self) for n in theme.needs] == [
        (n.importance.mean, n.experience.mean, n.chief_self) for n in chief_view.needs
    ]
    text = text_of(page)
    assert "Kun til chefen" not in text
    assert "Kommentarer" not in text
    assert "Fælles plan" in text
    assert reverse("gensidig:agreements", args=[closed.public_id]) not in page.content.decode()


def test_the_leaders_dashboard_lists_the_reports_shared_with_them(client, team, closed):
    leader_client(client, closed)
    assert closed.public_id not in client.get(reverse("gensidig:home")).content.decode()
    closed.shared_on = closed.closed_on
    closed.save(update_fields=["shared_on"])
    home = client.get(reverse("gensidig:home")).content.decode()
    assert reverse("gensidig:team-report", args=[closed.public_id]) in home


def test_a_shared_report_under_the_threshold_shows_the_leaders_nothing_of_theirs(client):
    team = make_team(leaders=8)
    round_ = closed_round(team, answering=4, value=5, chief_value=2, comments={"direction": "Hemmelig"})
    Round.objects.filter(pk=round_.pk).update(shared_on=round_.closed_on)
    leader_client(client, round_)
    for page in (
        reverse("gensidig:team-report", args=[round_.public_id]),
        reverse("gensidig:team-report-theme", args=[round_.public_id, "direction"]),
    ):
        text = text_of(client.get(page))
        assert "5,0" not in text and "Hemmelig" not in text
        assert "For få svar til at vise" in text


def test_an_agreement_written_by_mistake_can_be_deleted_but_last_rounds_stay(client, team, closed):
    sign_in(client, team)
    client.post(url("agreements", closed), {"theme": "direction", "text": "Skrevet forkert", "owner": "team"})
    mistake = Agreement.objects.get(round=closed)
    assert client.post(url("agreement-delete", closed, mistake.public_id)).status_code == 302
    assert not Agreement.objects.exists()

    earlier = Agreement.objects.create(round=closed, theme_key="direction", text="Sidste gang")
    follow_up = closed_round(team, answering=6)
    page = client.get(url("agreements", follow_up))
    assert "Sidste gang" in text_of(page)
    # Last round's agreement gets its status here, but is history: it cannot be deleted from here.
    client.post(url("agreement-status", follow_up, earlier.public_id), {"status": "in_progress"})
    earlier.refresh_from_db()
    assert earlier.status == AgreementStatus.IN_PROGRESS
    assert client.post(url("agreement-delete", follow_up, earlier.public_id)).status_code == 404
    assert Agreement.objects.filter(pk=earlier.pk).exists()
    assert client.get(url("agreement-delete", closed, earlier.public_id)).status_code == 405
