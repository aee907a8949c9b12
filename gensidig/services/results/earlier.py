"""Earlier published cells that a new round's cells could be subtracted from (services.results.history).

An earlier cell is a closed round's own team, or a closed campaign's branch, whose figures are still
stored (the organisation's retention period has not deleted them). It is a candidate when its
invited leaders differ from a new cell's by fewer than k people, and not by none. Only the figures
of candidates are read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from gensidig.models import Invitation, ItemStatistic, RollupParticipation, RollupStatistic, Round, RoundSummary
from gensidig.models.choices import Precision, Role
from gensidig.services.results.distributions import HALVES, TENTHS, WHOLES, Shown
from gensidig.services.results.history import Change, change_between, comparable

PER_POINT = {Precision.TENTH: TENTHS, Precision.HALF: HALVES, Precision.WHOLE: WHOLES}
Question = tuple[str, str]  # (item key, scale): the same question across instrument versions


@dataclass
class EarlierCell:
    """A cell of an earlier round or campaign: its invited leaders, and what it showed per question."""

    members: frozenset
    round_number: int | None = None  # a round's own team; None for a campaign's branch
    figures: dict = field(default_factory=dict)  # Question -> Shown


@dataclass
class Comparisons:
    """For each new cell ("own"/"total", team), the earlier cells it could be subtracted from."""

    pairs: dict = field(default_factory=lambda: defaultdict(list))  # cell -> [(EarlierCell, Change)]

    def for_question(self, question: Question) -> dict:
        found = {}
        for cell, earlier in self.pairs.items():
            shown = [(e.figures[question], change) for e, change in earlier if question in e.figures]
            if shown:
                found[cell] = shown
        return found

    def fewest_changed(self, cell) -> int | None:
        changes = [change.people for _e, change in self.pairs.get(cell, ())]
        return min(changes) if changes else None


def leader_members(round_ids: Iterable[int]) -> dict[int, frozenset]:
    """Each round's invited leaders: their person, or a mark of their own where the person was deleted."""
    members: dict[int, set] = defaultdict(set)
    for round_id, person_id, invitation_id in Invitation.objects.filter(
        round_id__in=list(round_ids), role=Role.LEADER
    ).values_list("round_id", "person_id", "pk"):
        members[round_id].add(person_id if person_id is not None else ("gone", invitation_id))
    return {round_id: frozenset(people) for round_id, people in members.items()}


def shown_from_row(*, n: int, mean: float, precision: str, sd: float | None, distribution: dict | None) -> Shown:
    """What a stored row shows, as the reader sees it: the mean and spread at their rounding."""
    per_point = PER_POINT[precision]
    groups = full = None
    if distribution:
        if distribution["kind"] == "grouped":
            groups = tuple(distribution["counts"])
        else:
            full = tuple(distribution["counts"])
    return Shown(
        n=n,
        mean=_half_up(mean, per_point),
        per_point=per_point,
        sd=None if sd is None else _half_up(sd, TENTHS),
        groups=groups,
        full=full,
    )


def _half_up(value: float, per_point: int) -> int:
    """value in units of 1/per_point, rounded half up as the report rounds it (formatting.one_decimal)."""
    return int((Decimal(repr(value)) * per_point).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def comparisons_for(
    *,
    organisation,
    cells: Mapping[tuple[str, Hashable], frozenset],
    k: int,
    exclude_rounds: Iterable[int],
    exclude_campaign=None,
) -> Comparisons:
    """The earlier cells each new cell ("own"/"total", team id) -> invited leaders could be subtracted from."""
    exclude_rounds = set(exclude_rounds)
    people = set().union(*cells.values()) if cells else set()
    earlier: list[EarlierCell] = []
    sources: list[tuple] = []  # ("round", round id) or ("branch", campaign id, team id), as earlier is

    round_ids = set(
        RoundSummary.objects.filter(round__team__organisation=organisation)
        .exclude(round_id__in=exclude_rounds)
        .values_list("round_id", flat=True)
    )
    round_members = leader_members(round_ids)
    numbers = dict(Round.objects.filter(pk__in=round_ids).values_list("pk", "number"))
    for round_id, members in round_members.items():
        if members & people:
            earlier.append(EarlierCell(members=members, round_number=numbers[round_id]))
            sources.append(("round", round_id))

    campaign_rows = defaultdict(list)
    participation = RollupParticipation.objects.filter(campaign__organisation=organisation)
    if exclude_campaign is not None:
        participation = participation.exclude(campaign=exclude_campaign)
    for campaign_id, team_id, parent_id, team_parent_id in participation.values_list(
        "campaign_id", "team_id", "parent_id", "team__parent_id"
    ):
        campaign_rows[campaign_id].append((team_id, parent_id, team_parent_id))
    if campaign_rows:
        rounds_of = defaultdict(dict)
        for campaign_id, team_id, round_id in Round.objects.filter(campaign_id__in=campaign_rows).values_list(
            "campaign_id", "team_id", "pk"
        ):
            rounds_of[campaign_id][team_id] = round_id
        own = leader_members(r for teams in rounds_of.values() for r in teams.values())
        for campaign_id, rows in campaign_rows.items():
            teams = {team_id for team_id, _p, _tp in rows}
            # Campaigns closed before parents were stored: the org chart's parent, within the campaign.
            parent = {t: (p if p is not None else (tp if tp in teams else None)) for t, p, tp in rows}
            children = defaultdict(list)
            for team_id, parent_id in parent.items():
                if parent_id is not None:
                    children[parent_id].append(team_id)
            branch: dict[int, frozenset] = {}

            def members_below(team_id, campaign_id=campaign_id, children=children, branch=branch):
                if team_id not in branch:
                    found = set(own.get(rounds_of[campaign_id].get(team_id), frozenset()))
                    for child in children[team_id]:
                        found |= members_below(child)
                    branch[team_id] = frozenset(found)
                return branch[team_id]

            for team_id in teams:
                members = members_below(team_id)
                if members & people:
                    earlier.append(EarlierCell(members=members))
                    sources.append(("branch", campaign_id, team_id))

    result = Comparisons()
    holding: dict = defaultdict(list)
    for index, cell in enumerate(earlier):
        for person in cell.members:
            holding[person].append(index)
    wanted_rounds, wanted_branches = set(), set()
    for cell_key, members in cells.items():
        overlap: dict[int, int] = defaultdict(int)
        for person in members:
            for index in holding.get(person, ()):
                overlap[index] += 1
        for index, shared in overlap.items():
            change = Change(left=len(earlier[index].members) - shared, joined=len(members) - shared)
            if comparable(change, k):
                result.pairs[cell_key].append((earlier[index], change))
                source = sources[index]
                (wanted_rounds if source[0] == "round" else wanted_branches).add(source)
    _load_figures(earlier, sources, wanted_rounds, wanted_branches)
    return result


def _load_figures(earlier, sources, wanted_rounds, wanted_branches) -> None:
    by_source = {source: cell for source, cell in zip(sources, earlier, strict=True)}
    round_ids = [source[1] for source in wanted_rounds]
    for round_id, key, scale, n, mean, precision, sd, distribution in ItemStatistic.objects.filter(
        round_id__in=round_ids, role=Role.LEADER, withheld=False
    ).values_list("round_id", "item__key", "scale", "n", "mean", "precision", "sd", "distribution"):
        by_source[("round", round_id)].figures[(key, scale)] = shown_from_row(
            n=n, mean=mean, precision=precision, sd=sd, distribution=distribution
        )
    campaigns = {source[1] for source in wanted_branches}
    for campaign_id, team_id, key, scale, n, mean, precision in RollupStatistic.objects.filter(
        campaign_id__in=campaigns, withheld=False
    ).values_list("campaign_id", "team_id", "item__key", "scale", "n", "mean", "precision"):
        cell = by_source.get(("branch", campaign_id, team_id))
        if cell is not None and ("branch", campaign_id, team_id) in wanted_branches:
            cell.figures[(key, scale)] = shown_from_row(n=n, mean=mean, precision=precision, sd=None, distribution=None)


__all__ = ["Change", "Comparisons", "EarlierCell", "change_between", "comparisons_for", "shown_from_row"]
