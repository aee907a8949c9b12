"""The chief's pages and the report: who may see what, and what the report withholds."""

import re

import pytest
from django.db import connection
from django.http import HttpRequest
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gensidig.models import ItemStatistic
from gensidig.models.choices import Role
from gensidig.services.survey.closing import close_round

from ..factories import CHIEF_PASSWORD, answer, answers_for, closed_round, leader_links, make_team, start_round

pytestmark = pytest.mark.django_db
THEMES = ["direction", "autonomy", "sparring", "teamwork", "communication", "strengths"]


def sign_in(client, team):
    # The password really is checked, through every backend; django-axes counts attempts per request.
    assert client.login(request=HttpRequest(), username=team.chief.email, password=CHIEF_PASSWORD)
    return client


def round_urls(round_):
    return [
        reverse("gensidig:round", args=[round_.public_id]),
        reverse("gensidig:report", args=[round_.public_id]),
        *[reverse("gensidig:report-theme", args=[round_.public_id, key]) for key in THEMES],
    ]


def leader_value(key, scale):
    # Importance high, experience lower on strategic direction: a clear focus theme.
    if scale == "importance":
        return 5
    return 2 if key.startswith("direction.") else 4


@pytest.fixture
def closed(team):
    return closed_round(
        team, answering=6, value=leader_value, chief_value=4, comments={"direction": "Vi savner retning – æøå"}
    )


def test_the_chief_sees_the_report_of_their_closed_round(client, team, closed):
    sign_in(client, team)
    response = client.get(reverse("gensidig:report", args=[closed.public_id]))
    assert response.status_code == 200
    report = response.context["report"]
    direction = report.theme("direction")
    assert direction.stat.importance == 5.0 and direction.stat.experience == 2.0
    assert report.focus[0].key == "direction"
    content = response.content.decode()
    assert content.count('role="img"') >= 2
    assert 'aria-labelledby="chart-overview-title chart-overview-desc"' in content


def test_each_theme_page_shows_items_the_mirror_and_comments(client, team, closed):
    sign_in(client, team)
    response = client.get(reverse("gensidig:report-theme", args=[closed.public_id, "direction"]))
    assert response.status_code == 200
    assert response.context["comments"] == ["Vi savner retning – æøå"] * 6  # one from each leader
    need = response.context["theme"].needs[0]
    assert (need.importance.mean, need.experience.mean, need.chief_self) == (5.0, 2.0, 4.0)
    assert "Vi savner retning – æøå" in response.content.decode()
    assert client.get(reverse("gensidig:report-theme", args=[closed.public_id, "no-such-theme"])).status_code == 404


@pytest.mark.parametrize("answering", [3, 4])
def test_figures_from_fewer_than_k_leaders_are_never_shown(client, answering):
    team = make_team(leaders=8)
    round_ = closed_round(
        team, answering=answering, value=5, chief_value=1, comments={"direction": "Dette må ikke vises"}
    )
    sign_in(client, team)
    response = client.get(reverse("gensidig:report", args=[round_.public_id]))
    assert not response.context["report"].summary.leader_figures_shown
    assert all(t.stat.importance is None for t in response.context["report"].themes)
    content = response.content.decode()
    overview_chart = re.search(r'<svg class="chart" id="chart-overview".*?</svg>', content, flags=re.S).group(0)
    assert "series-experience" not in overview_chart and "series-importance" not in overview_chart
    text = re.sub(r"<svg.*?</svg>", "", content, flags=re.S)
    assert "5,0" not in text and "5.0" not in text  # the leaders' unanimous 5s appear nowhere
    theme = client.get(reverse("gensidig:report-theme", args=[round_.public_id, "direction"]))
    assert "Dette må ikke vises" not in theme.content.decode()
    assert theme.context["comments"] == []
    leader_rows = ItemStatistic.objects.filter(round=round_, role=Role.LEADER)
    assert not leader_rows.filter(withheld=False).exists()
    assert not leader_rows.exclude(mean=None).exists(), "withheld figures are not even stored"


def test_an_item_falls_under_the_threshold_on_its_own_when_leaders_do_not_know(client, team):
    def value(key, scale):
        return 0 if key == "sparring.easy-to-reach" and scale == "experience" else 4

    round_, links = start_round(team)
    for link in leader_links(links)[:6]:
        answer(link, answers_for(round_, Role.LEADER, value))
    from gensidig.services.survey.closing import close_round

    close_round(round_=round_)
    sign_in(client, team)
    theme = client.get(reverse("gensidig:report-theme", args=[round_.public_id, "sparring"])).context["theme"]
    by_key = {need.key: need for need in theme.needs}
    assert by_key["sparring.easy-to-reach"].experience.withheld
    assert not by_key["sparring.easy-to-reach"].importance.withheld
    assert not by_key["sparring.informal-sparring"].experience.withheld


def test_comments_need_at_least_five_leaders_even_when_k_is_lower(client):
    team = make_team(leaders=6, threshold=3)
    round_ = closed_round(team, answering=4, comments={"direction": "Fire er for få"})
    sign_in(client, team)
    report = client.get(reverse("gensidig:report", args=[round_.public_id])).context["report"]
    assert report.summary.leader_figures_shown  # 4 >= k = 3
    assert not report.summary.comments_shown
    theme = client.get(reverse("gensidig:report-theme", args=[round_.public_id, "direction"]))
    assert "Fire er for få" not in theme.content.decode()


def spread_answers(team, answering, values):
    """A round where the i-th answering leader gives values[i] to every question."""
    round_, links = start_round(team)
    for link, value in zip(leader_links(links)[:answering], values, strict=False):
        answer(link, answers_for(round_, Role.LEADER, value))
    return close_round(round_=round_)


def test_distributions_are_grouped_from_five_and_full_from_eight(client):
    # 2, 3, 3, 4, 5, 5: mean 3,7, spread 1,1; the groups (1, 2, 3) leave the lowest answer (1 or 2)
    # and the highest (4 or 5) open.
    six = spread_answers(make_team(leaders=8), 6, [2, 3, 3, 4, 5, 5])
    row = ItemStatistic.objects.filter(round=six, role=Role.LEADER, withheld=False).first()
    assert row.distribution == {"kind": "grouped", "counts": [1, 2, 3]}
    eight = closed_round(make_team(leaders=8), answering=8)
    row = ItemStatistic.objects.filter(round=eight, role=Role.LEADER, withheld=False).first()
    assert row.distribution["kind"] == "full"


def test_a_spread_and_groups_that_would_give_away_the_lowest_and_highest_answer_are_left_out(client):
    # 2, 3, 3, 3, 4: mean 3,0, spread 0,6 and groups (1, 3, 1) fit only this distribution, which
    # names the lowest answer (2) and the highest (4); the mean alone leaves both open.
    round_ = spread_answers(make_team(leaders=8), 5, [2, 3, 3, 3, 4])
    row = ItemStatistic.objects.filter(round=round_, role=Role.LEADER, withheld=False).first()
    assert (row.n, row.mean) == (5, 3.0)
    assert row.sd is None or row.distribution is None
    summary = round_.summary
    assert summary.spreads_left_out == ItemStatistic.objects.filter(round=round_, role=Role.LEADER).count()


def test_nothing_about_answers_is_shown_before_the_round_closes(client, team):
    round_, links = start_round(team)
    for link in leader_links(links)[:6]:
        answer(link, answers_for(round_, Role.LEADER, 5))
    sign_in(client, team)
    assert client.get(reverse("gensidig:report", args=[round_.public_id])).status_code == 404
    assert client.get(reverse("gensidig:report-theme", args=[round_.public_id, "direction"])).status_code == 404
    page = client.get(reverse("gensidig:round", args=[round_.public_id]))
    assert page.status_code == 200
    assert page.context["counted"].leaders_answered == 6  # counts only
    assert not ItemStatistic.objects.filter(round=round_).exists()


def test_the_chief_can_close_a_round_and_then_read_its_report(client, team):
    round_, _links = start_round(team)
    sign_in(client, team)
    response = client.post(reverse("gensidig:round-close", args=[round_.public_id]))
    assert response.status_code == 302
    assert client.get(reverse("gensidig:report", args=[round_.public_id])).status_code == 200
    assert client.get(reverse("gensidig:round-close", args=[round_.public_id])).status_code == 405


def test_an_outsider_signed_in_sees_nothing_of_another_team(client, team, closed, outsider):
    client.force_login(outsider)
    for url in round_urls(closed):
        response = client.get(url)
        assert response.status_code == 404, url
        assert team.name not in response.content.decode()
    assert client.post(reverse("gensidig:round-close", args=[closed.public_id])).status_code == 404
    dashboard = client.get(reverse("gensidig:home"))
    assert team.name not in dashboard.content.decode()


def test_another_chief_sees_nothing_of_this_team(client, team, closed):
    other = make_team(leaders=5)
    sign_in(client, other)
    for url in round_urls(closed):
        assert client.get(url).status_code == 404, url


def test_an_anonymous_visitor_is_sent_to_sign_in(client, closed):
    for url in round_urls(closed):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("gensidig:login")), url


def test_a_leader_link_session_gives_no_access_to_reports(client, team, closed):
    _round, links = start_round(make_team(leaders=5))
    client.get(f"/a/{leader_links(links)[0].token}/")
    for url in round_urls(closed):
        assert client.get(url).status_code == 302, url


@pytest.mark.parametrize("page", ["report", "report-theme"])
def test_report_pages_run_the_same_number_of_queries_whatever_the_team_size(client, page):
    query_counts = []
    for size in (5, 12):
        team = make_team(leaders=size)
        round_ = closed_round(team, answering=size, comments={"direction": "x", "sparring": "y"})
        sign_in(client, team)
        args = [round_.public_id] + (["direction"] if page == "report-theme" else [])
        url = reverse(f"gensidig:{page}", args=args)
        client.get(url)  # warm caches of the instrument
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        # The audit trail's one insert (who read which report) is counted apart from the page's reads.
        audit = [q for q in captured.captured_queries if "gensidig_auditevent" in q["sql"]]
        assert len(audit) == 1
        query_counts.append(len(captured) - len(audit))
        client.logout()
    assert query_counts[0] == query_counts[1], query_counts
    assert query_counts[0] <= 10


def test_the_dashboard_lists_the_chiefs_rounds_with_answer_counts(client, team, closed):
    sign_in(client, team)
    response = client.get(reverse("gensidig:home"))
    content = response.content.decode()
    assert team.name in content
    assert re.search(r"6\s+\w+\s+8", content)  # "6 of 8" / "6 af 8"


def test_the_dashboard_closes_the_chiefs_own_rounds_past_their_time_and_no_one_elses(client, team):
    import datetime

    from django.utils import timezone

    from gensidig.models import Round

    mine, _ = start_round(team, days=1)
    others, _ = start_round(make_team(leaders=5), days=1)
    Round.objects.filter(pk__in=[mine.pk, others.pk]).update(closes_at=timezone.now() - datetime.timedelta(minutes=1))
    sign_in(client, team)
    client.get(reverse("gensidig:home"))
    assert Round.objects.get(pk=mine.pk).is_closed
    assert Round.objects.get(pk=others.pk).is_open
