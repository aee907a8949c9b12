"""A closed campaign's figures: every team's own, and every branch's roll-up, under one pattern.

When a campaign closes, the counters and invitations of all its rounds are read once. Every
leaders' question is protected over the whole hierarchy (services.results.protection: one
suppression pattern, rule 3 for each cell, earlier rounds, and the audit), so each team's report
and each branch's roll-up shows only what that pattern shows, and no figure can be worked out by
subtracting others, at any level. Participation counts get an audited pattern of their own, in
which what the answers show about participation is part of what a reader sees. Everything is
written in bulk.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction

from gensidig.db.bulk import insert_rows, insert_while_building
from gensidig.models import (
    Campaign,
    LiveParticipation,
    ParticipationFloor,
    RollupParticipation,
    RollupStatistic,
    RollupTheme,
)
from gensidig.models.choices import Precision, Scale
from gensidig.services.results import statistics as st
from gensidig.services.results.distributions import TENTHS
from gensidig.services.results.figures import (
    PRECISION,
    ROUNDS_PER_GROUP,
    figures_of,
    protect_all,
    read_closed,
    store_in_groups,
)
from gensidig.services.results.hierarchy import campaign_hierarchy
from gensidig.services.results.participation import participation_rows
from gensidig.services.survey.instruments import framework_for, items_by_key

STATISTIC_COLUMNS = ("campaign_id", "team_id", "item_id", "scale", "withheld", "n", "mean", "precision")
THEME_COLUMNS = (
    "campaign_id",
    "team_id",
    "scope",
    "theme_key",
    "position",
    "items_scored",
    "importance",
    "experience",
    "gap",
    "approximate",
)
PARTICIPATION_COLUMNS = (
    "campaign_id",
    "team_id",
    "invited",
    "answered",
    "branch_invited",
    "branch_answered",
    "parent_id",
)


def compute_campaign_results(*, campaign: Campaign, group: int = ROUNDS_PER_GROUP, counted=None) -> None:
    """Store every team's figures, every branch's roll-up and the participation of a closed campaign.

    The pattern is one for the whole hierarchy, so every question is protected at once; the rows
    drawn from it are built and written `group` teams at a time (for the roll-ups' figures, one
    question at a time), so a large campaign's close never holds all of them together. `counted`
    is what the close just counted (see figures.read_closed).
    """
    hierarchy = campaign_hierarchy(campaign)
    if not hierarchy.round_of:
        return
    instrument = campaign.instrument
    data = read_closed(hierarchy, counted)
    published = protect_all(
        data=data,
        instrument=instrument,
        k=campaign.anonymity_threshold,
        organisation=campaign.organisation,
        campaign=campaign,
    )
    # Protected now: the leaders' counts and who was invited where are not needed again.
    data.leader_counts.clear()
    data.members.clear()
    participation = participation_rows(
        campaign=campaign,
        hierarchy=hierarchy,
        invited=data.leaders_invited,
        answered=data.leaders_answered,
        at_least=_answered_at_least(hierarchy, published),
    )
    responses_shown = {row.team_id for row in participation if row.answered is not None}

    with transaction.atomic():
        store_in_groups(
            data=data, published=published, instrument=instrument, responses_shown=responses_shown, group=group
        )
        RollupStatistic.objects.filter(campaign=campaign).delete()
        RollupTheme.objects.filter(campaign=campaign).delete()
        RollupParticipation.objects.filter(campaign=campaign).delete()
        # What HR saw while the campaign ran has been audited with the close; the close's counts stay.
        ParticipationFloor.objects.filter(campaign=campaign).delete()
        LiveParticipation.objects.filter(campaign=campaign).delete()
        # Read here, in this thread: the rows are built in another, which may not query.
        framework_for(instrument, "da")
        items_by_key(instrument)
        insert_while_building(
            [(RollupStatistic, STATISTIC_COLUMNS, _statistic_rows(campaign, hierarchy, published, item, scale))]
            for item, scale in published.questions
        )
        insert_while_building(
            [
                (
                    RollupTheme,
                    THEME_COLUMNS,
                    _theme_rows(campaign, hierarchy, published, hierarchy.team_ids[start : start + group]),
                )
            ]
            for start in range(0, len(hierarchy.team_ids), group)
        )
        insert_rows(
            RollupParticipation,
            PARTICIPATION_COLUMNS,
            [
                (
                    campaign.pk,
                    row.team_id,
                    row.invited,
                    row.answered,
                    row.branch_invited,
                    row.branch_answered,
                    row.parent_id,
                )
                for row in participation
            ],
        )


def _branch_cell(hierarchy, published, team_id: int, item_id: int, scale: str):
    """A team's roll-up cell of a question: a leaf's own cell, else its branch's total."""
    result = published.results[(item_id, scale)]
    return result.own[team_id] if hierarchy.is_leaf(team_id) else result.total[team_id]


def _statistic_rows(campaign, hierarchy, published, item, scale) -> list[tuple]:
    rows = []
    for team_id in hierarchy.team_ids:
        shown = _branch_cell(hierarchy, published, team_id, item.pk, scale).shown
        rows.append(
            (
                campaign.pk,
                team_id,
                item.pk,
                scale,
                shown is None,
                None if shown is None else shown.n,
                None if shown is None else shown.mean_value,
                Precision.TENTH if shown is None else PRECISION[shown.per_point],
            )
        )
    return rows


def _answered_at_least(hierarchy, published) -> dict[int, int]:
    """What each team's shown figures say about how many of it answered: a question's n plus its
    "don't know" count is a floor."""
    floor: dict[int, int] = defaultdict(int)
    for result in published.results.values():
        for team_id, cell in result.own.items():
            if cell.shown is not None:
                floor[team_id] = max(floor[team_id], cell.shown.n + (cell.dont_know or 0))
    return floor


def _theme_rows(campaign, hierarchy, published, team_ids) -> list[tuple]:
    """Theme figures for the heatmap: per branch from its shown roll-ups, per team from its own cells."""
    framework = framework_for(campaign.instrument, "da")
    items = items_by_key(campaign.instrument)
    rows = []
    for team_id in team_ids:
        for scope in RollupTheme.Scope:
            for theme in framework.themes:
                needs, approximate = [], False
                for need in theme.needs:
                    item_id = items[need.key].pk
                    cells = []
                    for scale in (Scale.IMPORTANCE, Scale.EXPERIENCE):
                        if scope == RollupTheme.Scope.BRANCH:
                            cells.append(_branch_cell(hierarchy, published, team_id, item_id, scale))
                        else:
                            cells.append(published.results[(item_id, scale)].own[team_id])
                    importance, experience = (figures_of(cell) for cell in cells)
                    if not importance.withheld and not experience.withheld:
                        approximate |= any(cell.shown.per_point != TENTHS for cell in cells)
                    needs.append(st.NeedInput(importance=importance, experience=experience, chief_self=None))
                figures = st.theme_figures(needs, [])
                rows.append(
                    (
                        campaign.pk,
                        team_id,
                        scope.value,
                        theme.key,
                        theme.position,
                        figures.items_scored,
                        figures.importance,
                        figures.experience,
                        figures.gap,
                        approximate and figures.importance is not None,
                    )
                )
    return rows
