"""The meeting guide's agenda: time boxes that fill the meeting, themes chosen from the report or by the chief."""

import pytest

from gensidig.models import GuideFormat, MeetingGuide
from gensidig.services.guide import TIMINGS, GuideRejected, build_guide, choose

from ..factories import closed_round, make_team
from ..views.test_report_views import THEMES, leader_value

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(team):
    return closed_round(team, answering=6, value=leader_value, chief_value=4)


@pytest.mark.parametrize("format", GuideFormat.values)
@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_the_agenda_fills_the_meeting_exactly_and_steps_follow_on(closed, format, count):
    choose(round_=closed, format=format, focus_theme_keys=THEMES[:count])
    guide = build_guide(round_=closed, language="da")
    assert guide.steps[0].start == 0
    for before, after in zip(guide.steps, guide.steps[1:], strict=False):
        assert after.start == before.start + before.minutes
    assert guide.steps[-1].start + guide.steps[-1].minutes == TIMINGS[format]["total"]
    assert [t.theme.key for t in guide.themes] == THEMES[:count]
    assert [s.kind for s in guide.steps].count("break") == (1 if format == GuideFormat.HALF_DAY else 0)


def test_without_a_choice_the_guide_follows_the_reports_focus_themes(closed):
    guide = build_guide(round_=closed, language="en")
    assert not guide.chosen_by_chief
    assert [t.theme.key for t in guide.themes] == [t.key for t in guide.report.by_focus][:2]
    assert guide.themes[0].theme.key == "direction"
    assert guide.steps[2].title == guide.themes[0].report.title  # titles in the asked language


def test_a_choice_can_be_undone_by_choosing_no_themes(closed):
    choose(round_=closed, format=GuideFormat.HALF_DAY, focus_theme_keys=["strengths"])
    choose(round_=closed, format=GuideFormat.HALF_DAY, focus_theme_keys=[])
    guide = build_guide(round_=closed, language="da")
    assert guide.format == GuideFormat.HALF_DAY and not guide.chosen_by_chief
    assert len(guide.themes) == TIMINGS[GuideFormat.HALF_DAY]["themes"]


@pytest.mark.parametrize(
    "format, keys",
    [("weekend", []), ("two_hours", ["direction", "nowhere"]), ("two_hours", THEMES[:5])],
)
def test_a_guide_that_cannot_be_set_up_is_refused_and_nothing_is_saved(closed, format, keys):
    with pytest.raises(GuideRejected):
        choose(round_=closed, format=format, focus_theme_keys=keys)
    assert not MeetingGuide.objects.exists()


def test_a_team_under_the_threshold_talks_first_about_where_the_chief_rated_themself_lowest(db):
    team = make_team(leaders=8)
    lowest = {"teamwork": 1, "strengths": 2}
    round_ = closed_round(team, answering=2, chief_value=lambda key, scale: lowest.get(key.split(".")[0], 4))
    guide = build_guide(round_=round_, language="da")
    assert not guide.report.any_theme_scored
    assert [t.theme.key for t in guide.themes] == ["teamwork", "strengths"]
    assert all(t.report.stat.experience is None for t in guide.themes)
