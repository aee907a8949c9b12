"""What one question, or the participation counts, may publish across a hierarchy (DESIGN.md 2.2-2.6).

For the leaders' answers to one question, in the order the rules build on each other:

1. the suppression pattern (services.results.suppression): nothing under k, no lone unknown in an
   equation, no small leftover group;
2. for every shown team, what its cell may publish without giving both ends of its answers away
   (services.results.distributions, rule 3);
3. for every shown cell that an earlier round's cell of nearly the same people could be subtracted
   from, a coarser figure or none (services.results.history); a cell hidden here is completed
   around like any other hidden cell;
4. the audit (services.results.audit): with everything published -- at its rounding, with the real
   bounds of every cell -- no hidden cell may be narrowed more than levels.ratings_protected
   allows; where one would be, one more cell of its equation is hidden and the audit runs again.

The participation counts go through 1 and 4 with levels.count_protected, for the published table
and for every chief, who also knows how many of their own team answered; the figures that the
answers publish (a team's n and "don't know" count say that at least that many answered) and the
reminder counts are part of what a reader sees.

Cells only ever go from shown to hidden -- what one pass hid, the next keeps hidden -- so each loop
ends; a table with everything hidden passes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field

from gensidig.models.choices import Withheld
from gensidig.services.results import audit as table_audit
from gensidig.services.results.distributions import TENTHS, Shown, mean_units, publication, sum_range
from gensidig.services.results.history import Change, safe_publication
from gensidig.services.results.levels import count_protected, ratings_protected
from gensidig.services.results.suppression import Pattern, Unit, suppression_pattern

logger = logging.getLogger(__name__)

Counts = tuple[int, int, int, int, int, int]  # "don't know", then 1..5
Earlier = Sequence[tuple[Shown, Change]]


@dataclass(frozen=True)
class Team:
    """A team of the hierarchy: where it hangs, and (for a question) its leaders' counts."""

    key: Hashable
    parent: Hashable | None


@dataclass(frozen=True)
class Cell:
    """What one cell publishes: its figures, or why it has none."""

    shown: Shown | None
    withheld: Withheld | None = None
    dont_know: int | None = None


_WITHHELD_CELLS = {reason: Cell(shown=None, withheld=reason) for reason in Withheld}  # made once, not per cell


@dataclass
class QuestionResult:
    own: dict = field(default_factory=dict)  # team -> Cell (a leaf's only cell too)
    total: dict = field(default_factory=dict)  # team with teams below -> Cell
    hidden_by_audit: int = 0


def scale_counts(counts: Counts) -> tuple[int, ...]:
    return tuple(counts[1:])


def answered(counts: Counts) -> int:
    return sum(counts[1:])


def _children(teams: Sequence[Team]) -> dict:
    children: dict = {team.key: [] for team in teams}
    for team in teams:
        if team.parent is not None:
            children[team.parent].append(team.key)
    return children


class Hierarchy:
    """Where each team hangs, worked out once; see prepare_teams."""

    def __init__(self, teams: Sequence[Team]) -> None:
        self.teams = list(teams)
        self.parent = {team.key: team.parent for team in teams}
        self.children = _children(teams)
        order = [t.key for t in teams if t.parent is None]
        self.roots = list(order)
        for key in order:
            order.extend(self.children[key])
        self.bottom_up = list(reversed(order))

    def leaf(self, key) -> bool:
        return not self.children[key]


def prepare_teams(teams: Sequence[Team]) -> Hierarchy:
    """The hierarchy, made ready once for every question of a close (each question has the same teams)."""
    return Hierarchy(teams)


def protect_question(
    *,
    teams: Sequence[Team] | Hierarchy,
    counts: Mapping[Hashable, Counts],
    k: int,
    earlier: Mapping[tuple[str, Hashable], Earlier] | None = None,
) -> QuestionResult:
    """What every team's and every branch's cell of one leaders' question publishes.

    `counts` holds each team's leaders' counts ("don't know", then 1..5; a team missing has none);
    `earlier` the earlier cells each cell ("own" or "total", team) could be subtracted from.
    `teams` may come from prepare_teams.
    """
    question = _Question(teams if isinstance(teams, Hierarchy) else Hierarchy(teams), counts, earlier or {})
    hide_own: set = set()
    hide_total: set = set()
    by_audit = 0
    while True:
        pattern = suppression_pattern(question.units, k=k, hide_own=hide_own, hide_total=hide_total)
        own_shown, total_shown, to_hide = question.shown_cells(pattern)
        if to_hide:  # an earlier round leaves nothing to show: complete the pattern around it
            for kind, key in to_hide:
                (hide_total if kind == "total" or question.hierarchy.leaf(key) else hide_own).add(key)
            continue
        table = question.table(own_shown, total_shown)
        findings = table_audit.audit(table, ratings_protected)
        if not findings:
            break
        added = _complements(
            findings, question.hierarchy, pattern, units_n=question.n, table=table, rule=ratings_protected
        ) or _everything_left(findings, question.hierarchy, pattern)
        if not added:
            break  # nothing is shown: what remains was seen before, or known without any figure
        by_audit += len(added)
        for kind, key in added:
            (hide_total if kind == "total" else hide_own).add(key)
        # What this pass hid stays hidden. Worked out afresh, the pattern would often show a cell it
        # hid before and hide the complement instead, and that cell turned up in the next audit; at
        # region scale that cost a third more passes, for one cell more shown in 98,000.
        hide_own |= pattern.hidden_own
        hide_total |= pattern.hidden_total
    return question.result(own_shown, total_shown, k=k, hidden_by_audit=by_audit)


class _Question:
    """One question's counts over the hierarchy, and what each shown cell may publish (cached:
    the counts do not change while the pattern grows)."""

    def __init__(self, hierarchy: Hierarchy, counts: Mapping, earlier: Mapping) -> None:
        self.teams = hierarchy.teams
        self.hierarchy = hierarchy
        teams = self.teams
        zero: Counts = (0, 0, 0, 0, 0, 0)
        self.own_counts = {t.key: tuple(counts.get(t.key, zero)) for t in teams}
        self.branch_counts = _branch_counts(self.hierarchy, self.own_counts)
        self.n = {t.key: answered(self.own_counts[t.key]) for t in teams}
        self.units = [Unit(key=t.key, parent=t.parent, n=self.n[t.key]) for t in teams]
        self.earlier = earlier
        self.by_history: set = set()  # ("own" | "total", key)
        self._own: dict = {}
        self._total: dict = {}
        self._nodes: dict = {}
        self._first_table: table_audit.Table | None = None

    def shown_cells(self, pattern: Pattern) -> tuple[dict, dict, list]:
        """What each cell the pattern shows publishes (rule 3, then earlier rounds), and the cells
        an earlier round leaves nothing to show of."""
        own_shown, total_shown, to_hide = {}, {}, []
        for team in self.teams:
            key = team.key
            if pattern.own_shown(key):
                if key not in self._own:
                    scale = scale_counts(self.own_counts[key])
                    comparisons = list(self.earlier.get(("own", key), ()))
                    if self.hierarchy.leaf(key):
                        comparisons += self.earlier.get(("total", key), ())
                    self._own[key] = safe_publication(scale, publication(scale), comparisons)
                if self._own[key] is None:
                    to_hide.append(("own", key))
                    self.by_history.add(("own", key))
                else:
                    own_shown[key] = self._own[key]
            if not self.hierarchy.leaf(key) and pattern.total_shown(key):
                if key not in self._total:
                    scale = scale_counts(self.branch_counts[key])
                    mean_only = Shown(n=sum(scale), mean=mean_units(_sum(scale), sum(scale), TENTHS))
                    self._total[key] = safe_publication(scale, mean_only, self.earlier.get(("total", key), ()))
                if self._total[key] is None:
                    to_hide.append(("total", key))
                    self.by_history.add(("total", key))
                else:
                    total_shown[key] = self._total[key]
        return own_shown, total_shown, to_hide

    def table(self, own_shown: Mapping, total_shown: Mapping) -> table_audit.Table:
        """The question as the audit reads it: sums of answers, n known for every team (the worst case)."""
        nodes = [self._node(t, t.key in own_shown, t.key in total_shown) for t in self.teams]
        if self._first_table is None:
            self._first_table = table_audit.Table(nodes)
            return self._first_table
        return self._first_table.reshown(nodes)  # the same teams and bounds: only what is shown changed

    def _node(self, team: Team, own_shown: bool, total_shown: bool) -> table_audit.Node:
        # A shown cell always publishes the same (self._own, self._total), so a team's node depends
        # only on which of its cells are shown: made once, not again on each pass of the audit loop.
        made = self._nodes.get((team.key, own_shown, total_shown))
        if made is None:
            key = team.key
            made = self._nodes[(key, own_shown, total_shown)] = table_audit.Node(
                key=key,
                parent=team.parent,
                size=self.n[key],
                natural=(self.n[key], 5 * self.n[key]),
                own=sum_range(self._own[key]) if own_shown else None,
                total=sum_range(self._total[key]) if total_shown else None,
            )
        return made

    def result(self, own_shown: Mapping, total_shown: Mapping, *, k: int, hidden_by_audit: int) -> QuestionResult:
        result = QuestionResult(hidden_by_audit=hidden_by_audit)
        for team in self.teams:
            key = team.key
            if key in own_shown:
                result.own[key] = Cell(shown=own_shown[key], dont_know=self.own_counts[key][0])
            else:
                result.own[key] = _WITHHELD_CELLS[self._reason(self.n[key], ("own", key), k)]
            if not self.hierarchy.leaf(key):
                if key in total_shown:
                    result.total[key] = Cell(shown=total_shown[key])
                else:
                    n = answered(self.branch_counts[key])
                    result.total[key] = _WITHHELD_CELLS[self._reason(n, ("total", key), k)]
        return result

    def _reason(self, n: int, cell, k: int) -> Withheld:
        if n < k:
            return Withheld.TOO_FEW
        return Withheld.HISTORY if cell in self.by_history else Withheld.PATTERN


def _sum(scale: Sequence[int]) -> int:
    return sum(value * count for value, count in enumerate(scale, start=1))


def _branch_counts(hierarchy: Hierarchy, own_counts: Mapping) -> dict:
    totals: dict = {}
    for key in hierarchy.bottom_up:
        value = list(own_counts[key])
        for child in hierarchy.children[key]:
            value = [a + b for a, b in zip(value, totals[child], strict=True)]
        totals[key] = tuple(value)
    return totals


_TOP = object()  # the equation of the campaign's reminder counts: every root's total together


def _complements(
    findings: Sequence[table_audit.Finding],
    hierarchy: Hierarchy,
    pattern: Pattern,
    *,
    units_n: Mapping,
    table: table_audit.Table,
    rule,
    top: bool = False,
) -> set[tuple[str, Hashable]]:
    """One more cell to hide for some findings: a shown term of an equation the cell is in.

    An equation is a team with teams below it: its own cell and its children's totals add up to its
    total. The terms of the cell's own equations come first, then (where all of those are hidden, or
    hiding them would not help) the equations next to them through hidden totals, and so on
    outwards. Within one ring, the cheapest term whose hiding makes the cell safe for the reader
    who found it is chosen -- the smallest component first (the own cell before a branch at equal
    size, then key order, as the pattern chooses), the equation's total last; failing that, the
    one that widens the cell's interval most; where no single term helps, the cheapest of the
    nearest ring, and the next round goes on from there. A cell the reader already knows never
    protects anything for them. One complement per neighbourhood per round: a second finding next to an
    equation just changed is looked at again after the audit has run again. With `top`, the roots'
    totals form one more equation (the reminder counts bound their sum).
    """
    chosen: set = set()
    touched: set = set()
    what_if: dict = {}  # id(reader) -> audit.WhatIf, made once per reader for every finding
    for finding in findings:
        reader = finding.reader or table_audit.Reader()
        if id(reader) not in what_if:
            what_if[id(reader)] = (reader, table_audit.WhatIf(table, rule, reader))
        picked, first_ring = _complement_for(
            finding, hierarchy, pattern, units_n, what_if[id(reader)][1], exclude=chosen, top=top, touched=touched
        )
        if picked is not None:
            chosen.add(picked)
            touched.update(first_ring)
    return chosen


def _everything_left(findings, hierarchy: Hierarchy, pattern: Pattern) -> set[tuple[str, Hashable]]:
    """The last resort, never needed in the tests: hide every cell still shown, which ends the loop
    with a table that shows nothing (safe by definition), and say so in the log."""
    logger.error("The audit found %s and no single cell to hide; hiding every cell still shown.", findings[0])
    left = set()
    for key in hierarchy.parent:
        if pattern.own_shown(key):
            left.add(("own", key))
        if not hierarchy.leaf(key) and pattern.total_shown(key):
            left.add(("total", key))
    return left


def _complement_for(finding, hierarchy, pattern, units_n, what_if, *, exclude, top, touched):
    key, known = finding.key, set(finding.role)
    cell = ("own", key) if finding.kind == "own" or hierarchy.leaf(key) else ("total", key)

    def shown(term) -> bool:
        kind, unit = term
        if hierarchy.leaf(unit) or kind == "own":
            return pattern.own_shown(unit) and unit not in known
        return pattern.total_shown(unit)

    def equations_of(term) -> list:
        kind, unit = term
        found = []
        if kind == "own" and not hierarchy.leaf(unit):
            found.append(unit)
        else:
            if hierarchy.parent[unit] is not None:
                found.append(hierarchy.parent[unit])
            elif top:
                found.append(_TOP)
            if kind == "total" and not hierarchy.leaf(unit):
                found.append(unit)
        return found

    def terms_of(equation) -> list:
        units = hierarchy.roots if equation is _TOP else hierarchy.children[equation]
        own = [] if equation is _TOP else [("own", equation)]
        return own + [("own", unit) if hierarchy.leaf(unit) else ("total", unit) for unit in units]

    def size_of(term) -> int:
        return units_n[term[1]] if term[0] == "own" else _branch_n(hierarchy, term[1], units_n)

    first_ring = equations_of(cell)
    if touched.intersection(first_ring):
        return None, first_ring
    old_lo, old_hi = finding.interval
    ring, seen = first_ring, set()
    nearest = None  # the cheapest shown term of the nearest ring, should no single term help
    while ring:
        seen.update(ring)
        candidates, hidden_totals = [], []
        for equation in ring:
            for order, term in enumerate(terms_of(equation)):
                if term == cell or term in exclude:
                    continue
                if shown(term):
                    candidates.append((0, size_of(term), min(order, 1), repr(term[1]), term))
                elif term[0] == "total":
                    hidden_totals.append(term)
            if equation is _TOP:
                continue
            whole = ("total", equation)
            if whole != cell and whole not in exclude and shown(whole):
                candidates.append((1, size_of(whole), 0, repr(equation), whole))
            elif whole != cell:
                hidden_totals.append(whole)
        best = None
        if candidates and nearest is None:
            nearest = min(candidates)[-1]
        for *_cost, term in sorted(candidates):
            safe, (lo, hi) = what_if.passes_hiding(term, *cell)
            if safe:
                return term, first_ring
            gain = (old_lo - lo) + (hi - old_hi)
            if gain > 0 and (best is None or gain > best[0]):
                best = (gain, term)
        if best is not None:
            return best[1], first_ring
        ring = [e for term in hidden_totals for e in equations_of(term) if e not in seen]
    # Only hiding several together helps (a reader who knows cells on both sides of a total): the
    # nearest cheapest first, and the audit runs again.
    return nearest, first_ring


def _branch_n(hierarchy: Hierarchy, key, units_n: Mapping) -> int:
    total, stack = 0, [key]
    while stack:
        current = stack.pop()
        total += units_n[current]
        stack.extend(hierarchy.children[current])
    return total


@dataclass(frozen=True)
class ParticipationTeam:
    key: Hashable
    parent: Hashable | None
    invited: int
    answered: int
    # At least this many answered, as the team's shown figures say (n and "don't know" of a
    # question), or as a count shown earlier says (counts only grow).
    at_least: int = 0
    branch_at_least: int = 0  # the same for the branch, from a count shown earlier


@dataclass(frozen=True)
class ParticipationResult:
    own_shown: frozenset
    total_shown: frozenset
    hidden_by_audit: int


def protect_participation(
    *,
    teams: Sequence[ParticipationTeam],
    k: int,
    chiefs: Mapping[Hashable, Sequence[Hashable]],
    admins: Collection[Hashable] = (),
    not_answered_at_most: int | None = None,
) -> ParticipationResult:
    """Which participation counts (own and branch) may be shown.

    Readers: HR sees every count that is shown; a chief sees those of the teams they lead and
    every team below (the roll-ups), and knows their own teams' counts besides; a chief who is
    also one of the organisation's `admins` sees everything and knows their own counts.
    `chiefs` maps each chief to the teams they lead. `not_answered_at_most` is what the campaign's
    reminder counts say (no more than that many had not answered when the last reminder went out).
    """
    hierarchy = Hierarchy(teams)
    by_key = {t.key: t for t in teams}
    with_children = {t.key for t in teams if not hierarchy.leaf(t.key)}
    units = [Unit(key=t.key, parent=t.parent, n=t.answered) for t in teams]
    units_n = {t.key: t.answered for t in teams}
    invited_total = sum(t.invited for t in teams)
    top = None if not_answered_at_most is None else (invited_total - not_answered_at_most, invited_total)
    branch_answered = {}
    for key in hierarchy.bottom_up:
        branch_answered[key] = by_key[key].answered + sum(branch_answered[c] for c in hierarchy.children[key])
    hide_own: set = set()
    hide_total: set = set()
    by_audit = 0
    while True:
        pattern = suppression_pattern(units, k=k, known_own=with_children, hide_own=hide_own, hide_total=hide_total)
        table = table_audit.Table(
            [
                table_audit.Node(
                    key=t.key,
                    parent=t.parent,
                    size=t.invited,
                    natural=(min(t.at_least, t.invited), t.invited),
                    own=(t.answered, t.answered) if pattern.own_shown(t.key) else None,
                    total=(branch_answered[t.key],) * 2 if pattern.total_shown(t.key) else None,
                    value=t.answered,
                    total_floor=t.branch_at_least if t.branch_at_least else -math.inf,
                )
                for t in teams
            ],
            top=top,
        )
        readers = [table_audit.Reader()]
        for chief, led in chiefs.items():
            known = {key: by_key[key].answered for key in led if key in by_key and not pattern.own_shown(key)}
            if known:
                sees = None if chief in admins else frozenset(key for key in led if key in by_key)
                readers.append(table_audit.Reader(sees=sees, known=known))
        findings = table_audit.audit(table, count_protected, readers)
        if not findings:
            break
        added = _complements(
            findings, hierarchy, pattern, units_n=units_n, table=table, rule=count_protected, top=top is not None
        )
        if not added:
            added = _everything_left(findings, hierarchy, pattern)
        if not added:
            break  # nothing is shown: what remains was seen before, or known without any figure
        by_audit += len(added)
        for kind, key in added:
            (hide_total if kind == "total" else hide_own).add(key)
        hide_own |= pattern.hidden_own  # what this pass hid stays hidden (see protect_question)
        hide_total |= pattern.hidden_total
    return ParticipationResult(
        own_shown=frozenset(t.key for t in teams if pattern.own_shown(t.key)),
        total_shown=frozenset(t.key for t in teams if pattern.total_shown(t.key)),
        hidden_by_audit=by_audit,
    )
