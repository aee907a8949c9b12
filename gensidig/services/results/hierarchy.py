"""The teams whose figures are published together, as a tree: a campaign's, or one round's own team."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection

from gensidig.models import Campaign, Round, Team
from gensidig.services.access import descendants


@dataclass
class Hierarchy:
    """Teams with a round, as a tree: parents, children, and each team's round."""

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

    def is_leaf(self, team_id: int) -> bool:
        return not self.children[team_id]

    def bottom_up(self) -> list[int]:
        order = [t for t in self.team_ids if self.parent[t] is None]
        for team_id in order:  # grows while it is walked
            order.extend(self.children[team_id])
        return list(reversed(order))


@dataclass(frozen=True)
class RoundRef:
    """A round as a page's read path needs it: which round, of which team and campaign."""

    pk: int
    team_id: int
    campaign_id: int | None


def campaign_hierarchy(campaign: Campaign, *, light: bool = False) -> Hierarchy:
    """The campaign's teams with a round, as a tree following the org chart.

    A team of the branch without a round of its own (left out, or without leaders) is not a
    node: the teams below it hang from its nearest ancestor with a round. Its empty own cell would
    otherwise be a hidden term known to everyone, and force needless suppression around it.

    `light`: each team's round is a RoundRef (ids only) rather than a whole Round, for pages that
    only count (thousands of model instances and their instrument are what the close needs).
    """
    rounds: dict = {}
    if light:
        for pk, team_id in Round.objects.filter(campaign=campaign).values_list("pk", "team_id"):
            rounds[team_id] = RoundRef(pk, team_id, campaign.pk)
    else:
        for round_ in Round.objects.filter(campaign=campaign):
            if campaign.instrument_id == round_.instrument_id:
                round_.instrument = campaign.instrument  # one instrument, decoded once, not once per round
            rounds[round_.team_id] = round_
    organisation = campaign.organisation
    if campaign.root_team_id:
        ids = {
            campaign.root_team_id,
            *descendants([campaign.root_team], organisation=organisation)[campaign.root_team_id],
        }
        org_parent = dict(Team.objects.filter(pk__in=ids).values_list("pk", "parent_id"))
    else:
        # The whole organisation: read by organisation, not by a list of thousands of ids.
        org_parent = dict(Team.objects.filter(organisation=organisation).values_list("pk", "parent_id"))
        ids = set(org_parent)

    def nearest_with_round(team_id: int) -> int | None:
        ancestor = org_parent.get(team_id)
        while ancestor is not None and ancestor in ids and ancestor not in rounds:
            ancestor = org_parent.get(ancestor)
        return ancestor if ancestor in rounds else None

    return _tree(rounds, {team_id: nearest_with_round(team_id) for team_id in rounds})


def chains_upwards(team_ids) -> dict[int, list[int]]:
    """Each team with its parents in the chart, nearest first, in one statement.

    For a question about a few teams' place in the tree (is it in this branch, may this chief open
    it) without reading every team of the organisation: the cost is the teams asked about times
    the tree's depth.
    """
    team_ids = list(team_ids)
    if not team_ids:
        return {}
    table = connection.ops.quote_name(Team._meta.db_table)
    listed = ", ".join(["%s"] * len(team_ids))
    # Bounded, so a parent link that ever looped back would end rather than run on.
    sql = f"""
        WITH RECURSIVE up(start, id, parent_id, depth) AS (
            SELECT id, id, parent_id, 0 FROM {table} WHERE id IN ({listed})
            UNION ALL
            SELECT up.start, t.id, t.parent_id, up.depth + 1
            FROM {table} t JOIN up ON t.id = up.parent_id WHERE up.depth < 64
        )
        SELECT start, id FROM up ORDER BY start, depth
    """  # noqa: S608 - the table name is ours, the values parameters
    chains: dict[int, list[int]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, team_ids)
        for start, team_id in cursor.fetchall():
            chains[start].append(team_id)
    return dict(chains)


def round_hierarchy(round_: Round) -> Hierarchy:
    """A round outside any campaign: its team alone, with no branch to roll up."""
    return _tree({round_.team_id: round_}, {round_.team_id: None})


def _tree(rounds: dict[int, Round], parent: dict[int, int | None]) -> Hierarchy:
    children: dict[int, list[int]] = defaultdict(list)
    for team_id, parent_id in parent.items():
        if parent_id is not None:
            children[parent_id].append(team_id)
    for team_id in rounds:
        children.setdefault(team_id, [])
    return Hierarchy(team_ids=sorted(rounds), parent=parent, children=dict(children), round_of=rounds)
