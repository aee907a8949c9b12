"""A closed campaign's figures: every team's own, and every branch's roll-up, under one pattern.

When a campaign closes, the leaders' counters of all its rounds are read once. For every
leaders' question, one suppression pattern is computed over the whole hierarchy
(services.suppression, DESIGN.md 2.6); each team's report and each branch's roll-up shows only
what that pattern shows, so no figure can be worked out by subtracting others, at any level.
Participation counts get a pattern of their own by the same rules.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass

from django.db import transaction

from gensidig.models import (
    Campaign,
    RatingCounter,
    RollupParticipation,
    RollupStatistic,
    RollupTheme,
    Round,
    Team,
)
from gensidig.models.choices import SCALES_BY_ROLE_AND_KIND, ItemKind, Role, Scale
from gensidig.services import statistics as st
from gensidig.services.access import descendants
from gensidig.services.participation import participation_rows
from gensidig.services.results import compute_results
from gensidig.services.suppression import Unit, suppression_pattern
from gensidig.services.survey.instruments import framework_for, items_by_key

Counts = dict[int, int]


@dataclass
class Hierarchy:
    """The campaign's teams as a tree: parents, children, and which teams had a round."""

    team_ids: list[int]
    parent: dict[int, int | None]
    children: dict[int, list[int]]
    round_of: dict[int, Round]

    def subtree(self, team_id: int) -> list[int]:
        found, stack = [], [team_id]
        while stack:
            current = stack.pop()
            found.append(current)
            stack.extend(self.children[current])
        return found

    def units(self, n_of: dict[int, int]) -> list[Unit]:
        return [Unit(key=t, parent=self.parent[t], n=n_of.get(t, 0)) for t in self.team_ids]


def campaign_hierarchy(campaign: Campaign) -> Hierarchy:
    """The campaign's teams with a round, as a tree following the org chart.

    A team of the branch without a round of its own (left out, or without leaders) is not a
    node: the teams below it hang from its nearest ancestor with a round. Its empty own cell would
    otherwise be a hidden term known to everyone, and force needless suppression around it.
    """
    rounds = {r.team_id: r for r in Round.objects.filter(campaign=campaign).select_related("instrument")}
    organisation = campaign.organisation
    if campaign.root_team_id:
        ids = {
            campaign.root_team_id,
            *descendants([campaign.root_team], organisation=organisation)[campaign.root_team_id],
        }
    else:
        ids = set(Team.objects.filter(organisation=organisation).values_list("pk", flat=True))
    org_parent = dict(Team.objects.filter(pk__in=ids).values_list("pk", "parent_id"))

    def nearest_with_round(team_id: int) -> int | None:
        ancestor = org_parent.get(team_id)
        while ancestor is not None and ancestor in ids and ancestor not in rounds:
            ancestor = org_parent.get(ancestor)
        return ancestor if ancestor in rounds else None

    parent = {team_id: nearest_with_round(team_id) for team_id in rounds}
    children: dict[int, list[int]] = defaultdict(list)
    for team_id, parent_id in parent.items():
        if parent_id is not None:
            children[parent_id].append(team_id)
    return Hierarchy(team_ids=sorted(rounds), parent=parent, children=children, round_of=rounds)


def compute_campaign_results(*, campaign: Campaign) -> None:
    """Store every team's figures and every branch's roll-up for a closed campaign."""
    hierarchy = campaign_hierarchy(campaign)
    if not hierarchy.round_of:
        return
    instrument = campaign.instrument
    k = campaign.anonymity_threshold
    items = items_by_key(instrument)
    questions = [
        (item, scale)
        for item in sorted(items.values(), key=lambda i: i.position)
        for scale in SCALES_BY_ROLE_AND_KIND[(Role.LEADER, ItemKind(item.kind))]
    ]
    team_of_round = {r.pk: team_id for team_id, r in hierarchy.round_of.items()}
    own_counts: dict[tuple[int, int, str], Counts] = {}
    for round_id, item_id, scale, *per_value in RatingCounter.objects.filter(
        round__campaign=campaign, role=Role.LEADER
    ).values_list("round_id", "item_id", "scale", *RatingCounter.VALUE_FIELDS):
        own_counts[(team_of_round[round_id], item_id, scale)] = dict(enumerate(per_value))

    hidden_own: dict[int, set[tuple[int, str]]] = defaultdict(set)
    rollup_rows, branch_figures = [], {}
    for item, scale in questions:
        n_own = {t: st.answered(own_counts.get((t, item.pk, scale), {})) for t in hierarchy.team_ids}
        pattern = suppression_pattern(hierarchy.units(n_own), k=k)
        for team_id in hierarchy.team_ids:
            if not pattern.own_shown(team_id):
                hidden_own[team_id].add((item.pk, scale))
            branch = _summed(own_counts, hierarchy.subtree(team_id), item.pk, scale)
            figures = st.summarise(branch, threshold=k) if pattern.total_shown(team_id) else st.Figures.hidden()
            branch_figures[(team_id, item.pk, scale)] = figures
            rollup_rows.append(
                RollupStatistic(
                    campaign=campaign,
                    team_id=team_id,
                    item=item,
                    scale=scale,
                    withheld=figures.withheld,
                    n=figures.n,
                    mean=figures.mean,
                    sd=figures.sd,
                )
            )
    with transaction.atomic():
        for team_id, round_ in hierarchy.round_of.items():
            compute_results(round_=round_, hidden=frozenset(hidden_own[team_id]))
        RollupStatistic.objects.filter(campaign=campaign).delete()
        RollupStatistic.objects.bulk_create(rollup_rows, batch_size=2000)
        _store_themes(campaign, hierarchy, branch_figures)
        _store_participation(campaign, hierarchy)


def _summed(own_counts, team_ids, item_id, scale) -> Counts:
    total: Counts = defaultdict(int)
    for team_id in team_ids:
        for value, count in own_counts.get((team_id, item_id, scale), {}).items():
            total[value] += count
    return total


def _store_themes(campaign: Campaign, hierarchy: Hierarchy, branch_figures) -> None:
    """Theme figures for the heatmap: per branch from its shown roll-ups, per team from its report."""
    from gensidig.models import ItemStatistic

    framework = framework_for(campaign.instrument, "da")
    items = items_by_key(campaign.instrument)
    own = {
        (row.round.team_id, row.item_id, row.scale): row
        for row in ItemStatistic.objects.filter(round__campaign=campaign, role=Role.LEADER).select_related("round")
    }
    rows = []
    for team_id in hierarchy.team_ids:
        for scope in RollupTheme.Scope:
            for theme in framework.themes:
                needs = []
                for need in theme.needs:
                    item_id = items[need.key].pk
                    if scope == RollupTheme.Scope.BRANCH:
                        importance = branch_figures[(team_id, item_id, Scale.IMPORTANCE)]
                        experience = branch_figures[(team_id, item_id, Scale.EXPERIENCE)]
                    else:
                        importance = _figures_of(own.get((team_id, item_id, Scale.IMPORTANCE)))
                        experience = _figures_of(own.get((team_id, item_id, Scale.EXPERIENCE)))
                    needs.append(st.NeedInput(importance=importance, experience=experience, chief_self=None))
                figures = st.theme_figures(needs, [])
                rows.append(
                    RollupTheme(
                        campaign=campaign,
                        team_id=team_id,
                        scope=scope,
                        theme_key=theme.key,
                        position=theme.position,
                        items_scored=figures.items_scored,
                        importance=figures.importance,
                        experience=figures.experience,
                        gap=figures.gap,
                    )
                )
    RollupTheme.objects.filter(campaign=campaign).delete()
    RollupTheme.objects.bulk_create(rows, batch_size=2000)


def _figures_of(row) -> st.Figures:
    if row is None or row.withheld:
        return st.Figures.hidden()
    return st.Figures(withheld=False, n=row.n, mean=row.mean, sd=row.sd, dont_know=row.dont_know)


def _store_participation(campaign: Campaign, hierarchy: Hierarchy) -> None:
    RollupParticipation.objects.filter(campaign=campaign).delete()
    RollupParticipation.objects.bulk_create(
        (
            RollupParticipation(campaign=campaign, **asdict(row))
            for row in participation_rows(campaign=campaign, hierarchy=hierarchy)
        ),
        batch_size=2000,
    )
