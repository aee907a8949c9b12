"""Turn a closed round's counters into the stored figures that reports read."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict

from django.db import transaction

from gensidig.models import ItemStatistic, RatingCounter, Round, RoundSummary, ThemeStatistic
from gensidig.models.choices import DONT_KNOW, ItemKind, Role, Scale
from gensidig.services import statistics as st
from gensidig.services.survey.instruments import framework_for, items_by_key

COMMENTS_FLOOR = 5


def comments_threshold(threshold: int) -> int:
    """Comments need at least max(k, 5) leaders (rule 4): a sentence identifies more than a number."""
    return max(threshold, COMMENTS_FLOOR)


def compute_results(*, round_: Round, hidden: frozenset[tuple[int, str]] = frozenset()) -> RoundSummary:
    """Compute and store everything a report of this round may show, and nothing it may not.

    `hidden` names leaders' questions (item id, scale) that a campaign's suppression pattern
    withholds on top of the threshold, so that no roll-up can be subtracted to reveal them.
    """
    k = round_.anonymity_threshold
    counts: dict[tuple[int, str, str], dict[int, int]] = defaultdict(dict)
    for item_id, role, scale, *per_value in RatingCounter.objects.filter(round=round_).values_list(
        "item_id", "role", "scale", *RatingCounter.VALUE_FIELDS
    ):
        counts[(item_id, role, scale)] = dict(enumerate(per_value))
    used = defaultdict(int)
    for role in round_.invitations.filter(used=True).values_list("role", flat=True):
        used[role] += 1
    leader_responses = used[Role.LEADER]

    items = items_by_key(round_.instrument)
    framework = framework_for(round_.instrument, "da")
    item_rows: list[ItemStatistic] = []
    theme_results: dict[str, st.ThemeFigures] = {}

    protected = 0

    def leaders(item, scale) -> st.Figures:
        nonlocal protected
        figures = st.summarise(counts[(item.pk, Role.LEADER, scale)], threshold=k)
        if (item.pk, scale) in hidden:
            protected += not figures.withheld
            figures = st.Figures.hidden()
        item_rows.append(_item_row(round_, item, Role.LEADER, scale, figures))
        return figures

    def chief(item, scale) -> int | None:
        given = counts[(item.pk, Role.CHIEF, scale)]
        value = st.single_answer(given)
        item_rows.append(
            ItemStatistic(
                round=round_,
                item=item,
                role=Role.CHIEF,
                scale=scale,
                withheld=False,
                n=sum(given.values()),
                mean=value,
                dont_know=given.get(DONT_KNOW, 0),
            )
        )
        return value

    for theme in framework.themes:
        needs = [
            st.NeedInput(
                importance=leaders(items[need.key], Scale.IMPORTANCE),
                experience=leaders(items[need.key], Scale.EXPERIENCE),
                chief_self=chief(items[need.key], Scale.EXPERIENCE),
            )
            for need in theme.needs
        ]
        expectations = [
            st.ExpectationInput(
                leaders_fulfilment=leaders(items[exp.key], Scale.FULFILMENT),
                chief_importance=chief(items[exp.key], Scale.IMPORTANCE),
                chief_fulfilment=chief(items[exp.key], Scale.FULFILMENT),
            )
            for exp in theme.expectations
        ]
        theme_results[theme.key] = st.theme_figures(needs, expectations)

    ranks = st.rank_focus({key: figures.focus_score for key, figures in theme_results.items()})
    shown_needs = _shown_need_means(item_rows)
    with transaction.atomic():
        ItemStatistic.objects.filter(round=round_).delete()
        ThemeStatistic.objects.filter(round=round_).delete()
        RoundSummary.objects.filter(round=round_).delete()
        ItemStatistic.objects.bulk_create(item_rows)
        ThemeStatistic.objects.bulk_create(
            ThemeStatistic(
                round=round_,
                theme_key=theme.key,
                position=theme.position,
                focus_rank=ranks.get(theme.key),
                **{**asdict(theme_results[theme.key]), "reasons": list(theme_results[theme.key].reasons)},
            )
            for theme in framework.themes
        )
        summary = RoundSummary.objects.create(
            round=round_,
            leader_responses=leader_responses,
            chief_answered=used[Role.CHIEF] > 0,
            leader_figures_shown=any(r.role == Role.LEADER and not r.withheld for r in item_rows),
            hidden_to_protect_others=protected,
            comments_shown=leader_responses >= comments_threshold(k),
            grid_importance=_mean([imp for imp, _ in shown_needs]),
            grid_experience=_mean([exp for _, exp in shown_needs]),
        )
    return summary


def _item_row(round_: Round, item, role: str, scale: str, figures: st.Figures) -> ItemStatistic:
    return ItemStatistic(
        round=round_,
        item=item,
        role=role,
        scale=scale,
        withheld=figures.withheld,
        n=figures.n,
        mean=figures.mean,
        sd=figures.sd,
        dont_know=figures.dont_know,
        distribution=figures.distribution.as_json() if figures.distribution else None,
    )


def _shown_need_means(rows: list[ItemStatistic]) -> list[tuple[float, float]]:
    by_item: dict[int, dict[str, float]] = defaultdict(dict)
    for row in rows:
        if row.role == Role.LEADER and not row.withheld and row.item.kind == ItemKind.NEED:
            by_item[row.item.pk][row.scale] = row.mean
    return [
        (scales[Scale.IMPORTANCE], scales[Scale.EXPERIENCE])
        for scales in by_item.values()
        if Scale.IMPORTANCE in scales and Scale.EXPERIENCE in scales
    ]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
