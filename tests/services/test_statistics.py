"""The report's metrics and the anonymity rules inside them (docs/metrics.md)."""

import math
import statistics as pystats

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gensidig.services.results import statistics as stats

counts_strategy = st.dictionaries(st.integers(min_value=0, max_value=5), st.integers(min_value=0, max_value=40))
thresholds = st.integers(min_value=3, max_value=10)


def expand(counts):
    return [value for value, count in counts.items() if value for _ in range(count)]


@given(counts=counts_strategy, k=thresholds)
def test_a_figure_is_shown_exactly_when_at_least_k_gave_a_value_on_the_scale(counts, k):
    figures = stats.summarise(counts, threshold=k)
    answered = sum(c for v, c in counts.items() if 1 <= v <= 5)
    assert figures.withheld == (answered < k)


@given(counts=counts_strategy, k=thresholds)
def test_a_withheld_figure_carries_nothing_at_all(counts, k):
    figures = stats.summarise(counts, threshold=k)
    if figures.withheld:
        assert (figures.n, figures.mean, figures.sd, figures.dont_know, figures.distribution) == (None,) * 5


@given(counts=counts_strategy, k=thresholds)
def test_mean_and_spread_agree_with_the_answers_they_come_from(counts, k):
    figures = stats.summarise(counts, threshold=k)
    if figures.withheld:
        return
    answers = expand(counts)
    assert figures.n == len(answers)
    assert math.isclose(figures.mean, pystats.fmean(answers))
    assert math.isclose(figures.sd, pystats.pstdev(answers), abs_tol=1e-9)
    assert 1 <= figures.mean <= 5


def test_dont_know_is_not_part_of_the_mean_and_lowers_the_count():
    figures = stats.summarise({0: 3, 4: 5}, threshold=5)
    assert (figures.n, figures.mean, figures.dont_know) == (5, 4.0, 3)
    assert stats.summarise({0: 3, 4: 4}, threshold=5).withheld


@given(counts=counts_strategy)
def test_distributions_follow_the_answer_count(counts):
    answered = sum(c for v, c in counts.items() if 1 <= v <= 5)
    distribution = stats.distribution_of(counts)
    if answered < 5:
        assert distribution is None
    elif answered < 8:
        assert distribution.kind == "grouped"
        assert len(distribution.counts) == 3
        assert sum(distribution.counts) == answered
    else:
        assert distribution.kind == "full"
        assert list(distribution.counts) == [counts.get(v, 0) for v in range(1, 6)]


def test_a_threshold_below_three_is_refused():
    with pytest.raises(ValueError):
        stats.summarise({4: 10}, threshold=2)


def test_no_figure_is_a_minimum_or_a_maximum():
    figures = stats.summarise({1: 1, 5: 9}, threshold=5)
    assert not {"min", "max", "minimum", "maximum"} & set(vars(figures))


def shown(mean, sd=0.5):
    return stats.Figures(withheld=False, n=6, mean=mean, sd=sd, dont_know=0)


def need(importance, experience, chief=None, sd=0.5):
    return stats.NeedInput(importance=shown(importance), experience=shown(experience, sd), chief_self=chief)


def test_a_theme_averages_the_shown_items_and_names_its_gap():
    figures = stats.theme_figures([need(5, 3, chief=5), need(4, 3, chief=4), need(4, 2), need(3, 2)], expectations=[])
    assert figures.importance == 4.0 and figures.experience == 2.5 and figures.gap == 1.5
    assert figures.chief_self == 4.5
    assert math.isclose(figures.blind_spot, 4.5 - 2.5)
    assert figures.reasons[0] in {"gap", "blind_spot"} and set(figures.reasons) == {"gap", "blind_spot"}


def test_a_theme_is_not_scored_on_fewer_than_two_shown_items():
    hidden = stats.NeedInput(importance=stats.Figures.hidden(), experience=stats.Figures.hidden(), chief_self=4)
    figures = stats.theme_figures([need(5, 2), hidden, hidden, hidden], expectations=[])
    assert figures.importance is None and figures.focus_score is None
    assert figures.chief_self is not None  # the chief's own answers are always theirs to see


def test_a_theme_figure_ignores_withheld_items_entirely():
    hidden_experience = stats.NeedInput(importance=shown(5), experience=stats.Figures.hidden(), chief_self=None)
    with_hidden = stats.theme_figures([need(4, 3), need(4, 3), hidden_experience], expectations=[])
    without = stats.theme_figures([need(4, 3), need(4, 3)], expectations=[])
    assert (with_hidden.importance, with_hidden.experience) == (without.importance, without.experience)


def test_strong_disagreement_is_a_reason():
    figures = stats.theme_figures([need(4, 3.8, sd=1.4), need(4, 3.8, sd=1.2)], expectations=[])
    assert "disagreement" in figures.reasons


def test_the_mirror_compares_the_leaders_self_view_with_the_chiefs():
    expectations = [
        stats.ExpectationInput(leaders_fulfilment=shown(4.5), chief_importance=5, chief_fulfilment=3),
        stats.ExpectationInput(leaders_fulfilment=stats.Figures.hidden(), chief_importance=4, chief_fulfilment=2),
    ]
    figures = stats.theme_figures([need(4, 4), need(4, 4)], expectations)
    assert figures.leaders_fulfilment == 4.5
    assert figures.chief_fulfilment == 2.5
    assert figures.mirror_gap == 2.0
    assert "mirror" in figures.reasons


@given(
    importance=st.floats(1, 5),
    experience=st.floats(1, 5),
    blind=st.one_of(st.none(), st.floats(-4, 4)),
    sd=st.one_of(st.none(), st.floats(0, 2)),
    mirror=st.one_of(st.none(), st.floats(-4, 4)),
)
def test_the_focus_score_never_rewards_a_theme_for_going_well(importance, experience, blind, sd, mirror):
    score, reasons = stats.focus_score(
        importance=importance, gap=importance - experience, blind_spot=blind, disagreement=sd, mirror_gap=mirror
    )
    assert score >= 0
    assert ("gap" in reasons) == (importance - experience >= stats.GAP_WORTH_NAMING)


def test_a_bigger_gap_on_something_more_important_ranks_first():
    scores = {
        "small": stats.focus_score(importance=4, gap=0.6, blind_spot=None, disagreement=None, mirror_gap=None)[0],
        "big": stats.focus_score(importance=4.5, gap=1.5, blind_spot=None, disagreement=None, mirror_gap=None)[0],
        "unranked": None,
    }
    assert stats.rank_focus(scores) == {"big": 1, "small": 2}


@pytest.mark.parametrize(
    ("importance", "experience", "expected"),
    [
        (4.5, 2.5, "concentrate"),
        (4.1, 3.5, "concentrate"),  # the report's item 17: missed by 0,6, and important
        (4.5, 4.5, "keep_up"),
        (4.1, 3.6, "keep_up"),  # within half a point of the diagonal
        (3.0, 2.5, "low_priority"),
        (2.5, 1.0, "low_priority"),  # missed, but less important
        (3.0, 4.5, "possible_overkill"),
        (4.5, 5.0, "keep_up"),  # a little more than needed is still a match
        (3.9, 4.5, "possible_overkill"),
    ],
)
def test_the_grid_classifies_by_the_diagonal(importance, experience, expected):
    assert stats.quadrant(importance=importance, experience=experience) == expected


@given(
    importance=st.integers(min_value=10, max_value=50).map(lambda v: v / 10),
    experience=st.integers(min_value=10, max_value=50).map(lambda v: v / 10),
)
def test_the_grid_never_calls_a_behaviour_experienced_below_its_importance_over_served(importance, experience):
    where = stats.quadrant(importance=importance, experience=experience)
    if experience <= importance:
        assert where != "possible_overkill"
    if where == "concentrate":
        assert importance - experience > 0.5 - 1e-9 and importance >= stats.IMPORTANT_FROM


@given(values=st.lists(st.integers(min_value=10, max_value=50), min_size=2, max_size=4))
def test_every_theme_difference_is_the_difference_of_the_theme_figures_as_shown(values):
    """The report's pencil check: whatever the items, gap = importance - experience as printed."""
    from gensidig.formatting import one_decimal

    needs = [
        stats.NeedInput(
            importance=stats.Figures(withheld=False, n=5, mean=v / 10, sd=1.0),
            experience=stats.Figures(withheld=False, n=5, mean=values[-1 - i] / 10, sd=0.5),
            chief_self=(i % 5) + 1,
        )
        for i, v in enumerate(values)
    ]
    expectations = [
        stats.ExpectationInput(
            leaders_fulfilment=stats.Figures(withheld=False, n=5, mean=v / 10),
            chief_importance=4,
            chief_fulfilment=(v % 5) + 1,
        )
        for v in values
    ]
    theme = stats.theme_figures(needs, expectations)

    def printed(value):
        return one_decimal(value)

    assert printed(theme.gap) == printed(theme.importance) - printed(theme.experience)
    assert printed(theme.mirror_gap) == printed(theme.leaders_fulfilment) - printed(theme.chief_fulfilment)
    chief_on_scored = printed(theme.experience) + printed(theme.blind_spot)
    assert chief_on_scored == printed(sum(n.chief_self for n in needs) / len(needs))
