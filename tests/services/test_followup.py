"""Follow-up rounds: the change since last time, only where both rounds could show the figure, and the
agreements made last time carried over to the items they targeted."""

import pytest
from django.urls import reverse

from gensidig.models.choices import Role
from gensidig.services.agreements import earlier_agreements, record_agreement
from gensidig.services.guide import build_guide
from gensidig.services.results.trends import previous_round, trend_for
from gensidig.services.survey.instruments import current_instrument, framework_for

from ..factories import answer, answers_for, chief_link, leader_links, make_team, start_round
from ..views.test_dialogue_views import text_of

pytestmark = pytest.mark.django_db


def run_round(team, *, leaders: list, chief_value=3):
    """A round in which leader i answers leaders[i](item key, scale); then it closes."""
    from gensidig.services.survey.closing import close_round

    round_, links = start_round(team)
    for link, value in zip(leader_links(links), leaders, strict=False):
        answer(link, answers_for(round_, Role.LEADER, value))
    answer(chief_link(links), answers_for(round_, Role.CHIEF, chief_value))
    return close_round(round_=round_)


def experience(direction: int, other: int = 4):
    def value(key, scale):
        if scale == "importance":
            return 5
        return direction if key.startswith("direction.") else other

    return value


def test_a_follow_up_round_shows_the_change_per_item_and_theme(team):
    first = run_round(team, leaders=[experience(2)] * 6)
    second = run_round(team, leaders=[experience(4)] * 5 + [experience(3)])
    trend = trend_for(second)
    assert trend.previous == first
    needs = framework_for(second.instrument, "da").themes[0].needs
    # The change is the difference of the figures both reports show (3,8 and 2,0), never more exact.
    for need in needs:
        assert trend.item(need.key, "experience") == pytest.approx(3.8 - 2.0)
        assert trend.item(need.key, "importance") == pytest.approx(0)
    assert trend.theme("direction", "experience") == pytest.approx(3.8 - 2.0)
    assert trend.theme("direction", "gap") == pytest.approx(-(3.8 - 2.0))  # the gap closed by as much
    assert trend.theme("autonomy", "experience") == pytest.approx(0)
    assert trend_for(first).previous is None


def test_the_agreements_made_last_time_come_back_next_to_the_items_they_targeted(client, team):
    first = run_round(team, leaders=[experience(2)] * 6)
    theme = framework_for(first.instrument, "da").themes[0]
    record_agreement(
        round_=first,
        theme_key="direction",
        text="Chefen forklarer beslutninger",
        owner="chief",
        item_keys=[theme.needs[0].key],
    )
    record_agreement(round_=first, theme_key="sparring", text="Sparring hver måned", owner="team")
    second = run_round(team, leaders=[experience(4)] * 6)
    carried = earlier_agreements(second)
    assert [a.text for a in carried["direction"]] == ["Chefen forklarer beslutninger"]
    assert [a.text for a in carried["sparring"]] == ["Sparring hver måned"]
    assert earlier_agreements(first) == {}

    guide = build_guide(round_=second, language="da")
    assert all(t.earlier == carried.get(t.theme.key, []) for t in guide.themes)

    client.force_login(team.chief.user)
    page = text_of(client.get(reverse("gensidig:report-theme", args=[second.public_id, "direction"])))
    assert "Chefen forklarer beslutninger" in page
    assert f"{theme.needs[0].title} (+2,0)" in page  # the targeted item, with its change
    assert "+2,0" in text_of(client.get(reverse("gensidig:report", args=[second.public_id])))


@pytest.mark.parametrize("answering", [(4, 6), (6, 4)])
def test_a_team_below_the_threshold_in_either_round_shows_no_trend(client, team, answering):
    before, now = answering
    run_round(team, leaders=[experience(2)] * before)
    second = run_round(team, leaders=[experience(4)] * now)
    trend = trend_for(second)
    assert trend.previous is not None
    assert trend.items == {} and trend.themes == {}
    client.force_login(team.chief.user)
    for url in (
        reverse("gensidig:report", args=[second.public_id]),
        reverse("gensidig:report-theme", args=[second.public_id, "direction"]),
    ):
        page = text_of(client.get(url))
        assert "+2,0" not in page and "−2,0" not in page


def test_an_item_withheld_in_one_round_has_no_change_while_the_others_do(team):
    needs = framework_for(current_instrument(), "da").themes[0].needs
    skipped = needs[0].key

    def unsure(key, scale):  # two of six say "don't know" on one item: it falls below k
        return 0 if key == skipped else experience(3)(key, scale)

    run_round(team, leaders=[experience(2)] * 6)
    second = run_round(team, leaders=[experience(3)] * 4 + [unsure] * 2)
    trend = trend_for(second)
    assert trend.item(skipped, "experience") is None
    assert trend.item(needs[1].key, "experience") == pytest.approx(1.0)
    # The two rounds' theme figures cover different items, so they are not compared: a change is
    # always the difference of two figures a reader can see side by side.
    assert trend.theme("direction", "experience") is None
    assert trend.theme("autonomy", "experience") == pytest.approx(0.0)  # the same items, unchanged


def test_the_previous_round_is_the_latest_closed_one_with_figures(team):
    from gensidig.models import RoundSummary

    first = run_round(team, leaders=[experience(2)] * 6)
    second = run_round(team, leaders=[experience(3)] * 6)
    open_now, _links = start_round(team)
    assert previous_round(open_now) == second
    RoundSummary.objects.filter(round=second).delete()  # as the retention purge leaves it
    assert previous_round(open_now) == first


def test_a_different_team_never_counts_as_the_previous_round(team):
    other = make_team(leaders=8)
    run_round(other, leaders=[experience(2)] * 6)
    mine = run_round(team, leaders=[experience(4)] * 6)
    assert trend_for(mine).previous is None


@pytest.mark.parametrize("page", ["report", "report-theme", "guide", "guide-present-step"])
def test_follow_up_pages_run_the_same_number_of_queries_whatever_the_team_size_or_agreements(client, page):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    query_counts = []
    for size, agreements in ((5, 1), (12, 6)):
        team = make_team(leaders=size)
        first = run_round(team, leaders=[experience(2)] * size)
        for _ in range(agreements):
            record_agreement(round_=first, theme_key="direction", text="Før", owner="team")
        second = run_round(team, leaders=[experience(4)] * size)
        for _ in range(agreements):
            record_agreement(round_=second, theme_key="direction", text="Nu", owner="team")
        client.force_login(team.chief.user)
        args = {"report-theme": ["direction"], "guide-present-step": [3]}.get(page, [])
        url = reverse(f"gensidig:{page}", args=[second.public_id, *args])
        client.get(url)  # warm the instrument's caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        query_counts.append(len(captured))
        client.logout()
    assert query_counts[0] == query_counts[1], query_counts
    assert query_counts[0] <= 14, query_counts
