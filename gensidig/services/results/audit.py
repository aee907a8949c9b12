"""The audit of a published table: how narrowly can each hidden cell be worked out? (DESIGN.md 2.6)

Statistics offices audit a table before they publish it (tau-argus): for every hidden cell, a
linear programme over everything the reader can see, with the real bounds of every cell, finds the
smallest and the largest value the hidden cell can take. Here the table is one question (or the
participation counts) over a campaign's hierarchy of teams:

* every team v has an own cell x_v (how many of its leaders answered, or the sum of their ratings),
  which lies between natural bounds (0..invited, or n..5n) and, where it is shown, within the
  interval its rounded figures allow;
* every team with teams below it has a total, x_v plus the totals of its children; a shown total
  lies within the interval its rounded figure allows;
* optionally the sum of every root lies within an interval (the campaign's reminder counts).

The unknowns and equations form a tree: each total appears in its own equation and its parent's,
and nothing else links them. On such a tree the linear programme's answer for every cell at once
comes from two passes of interval arithmetic: bottom-up, the values each branch can add up to;
top-down, the values the rest of the table leaves each cell. This is exact, not an
approximation (a tree-shaped system of interval sums is solved by its bound propagation), and as
every bound is a whole number the interval holds whole numbers only, so integrality never changes
the answer either. tests/services/test_audit.py checks both claims against HiGHS (scipy's
linprog) on random hierarchies and against a brute-force enumeration of every integer assignment
on small ones. The passes cost time linear in the number of teams, where a linear programme per
hidden cell and role would cost hundreds of thousands of solver runs at region scale.

A hidden cell is safe when its interval keeps the protection that the caller's rule asks for
(services.results.protection sets the rules and docs/anonymity.md justifies them), or when the
interval is no narrower than what single published figures say about it on their own (a shown
"28 of 28" says that everyone in it answered; that is the published figure, not a deduction).
"""

from __future__ import annotations

import math
from collections import ChainMap
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

Interval = tuple[float, float]  # whole numbers, or +-inf for "no bound"
EVERYTHING: Interval = (-math.inf, math.inf)


@dataclass(frozen=True)
class Node:
    """One team of the table: its own cell, and the total of its branch where it has teams below."""

    key: Hashable
    parent: Hashable | None
    size: int  # the people the own cell is about: invited (counts) or who answered (ratings)
    natural: Interval  # what the own cell can be at all
    own: Interval | None  # the interval its shown figures allow; None when hidden
    total: Interval | None = None  # the same for the branch total; None when hidden, ignored for a leaf
    value: int | None = None  # the true own value, for a role who knows it
    # A hidden branch total may still be known to be at least this (a count shown earlier, which can
    # only have grown since); a floor on a team's own cell belongs in `natural`.
    total_floor: float = -math.inf

    @property
    def total_known(self) -> Interval | None:
        """What is published about the branch total: its interval, a floor, or nothing."""
        if self.total is not None:
            return self.total
        return (self.total_floor, math.inf) if self.total_floor > -math.inf else None


@dataclass(frozen=True)
class Reader:
    """Someone who reads the table: what part of it they see, and what they know besides.

    `sees` names the teams whose branches they see (a chief: their own teams and everything below);
    None is the whole table (HR). `known` holds own cells they know anyway, with their true values
    (a chief knows how many of their own team answered).
    """

    sees: frozenset | None = None
    known: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """A hidden cell that a reader can pin down more narrowly than the rule allows."""

    kind: str  # "own" (a team's own cell; a leaf's only cell) or "total" (a branch)
    key: Hashable
    interval: Interval
    direct: Interval
    size: int
    role: tuple = ()  # the own cells the reader knows besides what is published
    reader: Reader | None = None  # who found it

    def __str__(self) -> str:
        who = f" for a reader who knows {list(self.role)}" if self.role else ""
        return (
            f"{self.kind} {self.key!r} (size {self.size}) lies in {self.interval}{who}, published alone: {self.direct}"
        )


Rule = Callable[[int, float, float], bool]  # (size, lo, hi) -> protected?


def _add(a: Interval, b: Interval) -> Interval:
    return a[0] + b[0], a[1] + b[1]


def _sub(a: Interval, b: Interval) -> Interval:
    return a[0] - b[1], a[1] - b[0]


def _without(sum_: Interval, part: Interval) -> Interval:
    """The sum of the other terms, given a sum of intervals and one of its terms (endpoint by endpoint)."""
    return sum_[0] - part[0], sum_[1] - part[1]


def _meet(a: Interval, b: Interval | None) -> Interval:
    return a if b is None else (max(a[0], b[0]), min(a[1], b[1]))


@dataclass
class Table:
    """A forest of nodes, checked and indexed once; `top` bounds the sum of every root."""

    nodes: Sequence[Node]
    top: Interval | None = None
    index: dict = field(init=False)
    children: dict = field(init=False)
    roots: list = field(init=False)
    order: list = field(init=False)  # every node after its parent
    # What follows from the shape and the bounds alone (natural totals, sizes): shared by reshown().
    from_bounds: dict = field(init=False, repr=False, compare=False)
    # What follows from this table's published cells: each reader's view and first pass.
    from_cells: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.from_bounds, self.from_cells = {}, {}
        self.index = {node.key: node for node in self.nodes}
        if len(self.index) != len(self.nodes):
            raise ValueError("Two nodes share a key.")
        self.children = {node.key: [] for node in self.nodes}
        self.roots = []
        for node in self.nodes:
            if node.parent is None:
                self.roots.append(node.key)
            elif node.parent not in self.index:
                raise ValueError(f"Node {node.key!r} names the parent {node.parent!r}, which is not in the table.")
            else:
                self.children[node.parent].append(node.key)
        self.order = list(self.roots)
        for key in self.order:  # grows while it is walked
            self.order.extend(self.children[key])
        if len(self.order) != len(self.nodes):
            raise ValueError("The parent links form a cycle.")

    def reshown(self, nodes: Sequence[Node]) -> Table:
        """This table with other cells shown or hidden.

        `nodes` must be this table's nodes in the same order, with only what is published (`own`,
        `total`) changed. The shape and what follows from the bounds are shared, not checked and
        worked out again: the protection loop makes a table per pass, hundreds per question.
        """
        table = object.__new__(Table)
        table.nodes, table.top = nodes, self.top
        table.index = {node.key: node for node in nodes}
        table.children, table.roots, table.order = self.children, self.roots, self.order
        table.from_bounds, table.from_cells = self.from_bounds, {}
        return table

    def is_leaf(self, key) -> bool:
        return not self.children[key]

    def branch(self, key) -> list:
        found, stack = [], [key]
        while stack:
            current = stack.pop()
            found.append(current)
            stack.extend(self.children[current])
        return found


@dataclass(frozen=True)
class Ranges:
    """The exact interval of every own cell and every branch total."""

    own: dict
    total: dict


def ranges(table: Table, known: Mapping | None = None) -> Ranges:
    """What every cell can be, given everything published and the own cells in `known` (key -> value).

    Raises ValueError when nothing fits (the published figures contradict each other).
    """
    bottom = _first_pass(table, known or {})
    up, own_intervals, children_sums, children = bottom.up, bottom.own_interval, bottom.children_sum, table.children
    own_range, total_range = {}, {}
    outside = {root: bottom.outside_root(root) for root in table.roots}
    # The interval arithmetic of _meet, _sub and _outside_child written out: this loop runs over
    # every team on every pass of the protection loop.
    for key in table.order:
        up_lo, up_hi = up[key]
        out_lo, out_hi = outside[key]
        lo = up_lo if up_lo > out_lo else out_lo
        hi = up_hi if up_hi < out_hi else out_hi
        if lo > hi:
            raise ValueError(f"No values fit the published figures at {key!r}.")
        total_range[key] = (lo, hi)
        own_lo, own_hi = own_intervals[key]
        sum_lo, sum_hi = children_sums[key]
        cell_lo, cell_hi = lo - sum_hi, hi - sum_lo
        own_range[key] = (cell_lo if cell_lo > own_lo else own_lo, cell_hi if cell_hi < own_hi else own_hi)
        rest_lo, rest_hi = lo - own_hi, hi - own_lo
        for child in children[key]:
            child_lo, child_hi = up[child]
            outside[child] = (rest_lo - (sum_hi - child_hi), rest_hi - (sum_lo - child_lo))
    return Ranges(own=own_range, total=total_range)


def _feasible(up: Interval, outside: Interval, key) -> Interval:
    feasible = _meet(up, outside)
    if feasible[0] > feasible[1]:
        raise ValueError(f"No values fit the published figures at {key!r}.")
    return feasible


def _outside_child(feasible: Interval, own_interval: Interval, children_sum: Interval, child_up: Interval) -> Interval:
    """What the rest of the table leaves one child's branch: the parent's total less its own cell
    and the other children's branches."""
    return _sub(_sub(feasible, own_interval), _without(children_sum, child_up))


def _first_pass(table: Table, known: Mapping) -> _BottomUp:
    """The first pass for a table and what a reader knows, made once (the audit and the complement
    search both need it)."""
    key = ("first pass", frozenset(known.items()))
    if key not in table.from_cells:
        table.from_cells[key] = _BottomUp(table, known)
    return table.from_cells[key]


def _view(table: Table, reader: Reader) -> Table:
    """The table as a reader sees it: whole, or the branches below the teams they see (made once)."""
    if reader.sees is None:
        return table
    key = ("view", reader.sees)
    if key not in table.from_cells:
        table.from_cells[key] = subtable(table, sorted(reader.sees, key=repr))
    return table.from_cells[key]


class _BottomUp:
    """The first of the two passes: every own cell's interval, and what every branch can add up to."""

    def __init__(self, table: Table, known: Mapping) -> None:
        self.table = table
        self.own_interval: dict = {}
        for node in table.nodes:
            self.own_interval[node.key] = self.own_cell(node, known)
        self.up: dict = {}
        self.children_sum: dict = {}
        up, children, index = self.up, table.children, table.index
        for key in reversed(table.order):  # as branch() does, written out: it runs for every team
            sum_lo = sum_hi = 0
            kids = children[key]
            for child in kids:
                child_lo, child_hi = up[child]
                sum_lo, sum_hi = sum_lo + child_lo, sum_hi + child_hi
            self.children_sum[key] = (sum_lo, sum_hi)
            own_lo, own_hi = self.own_interval[key]
            lo, hi = own_lo + sum_lo, own_hi + sum_hi
            if kids:
                published = index[key].total_known
                if published is not None:
                    lo, hi = (lo if lo > published[0] else published[0]), (hi if hi < published[1] else published[1])
            if lo > hi:
                raise ValueError(f"No values fit the published figures at {key!r}.")
            up[key] = (lo, hi)
        self.roots_sum = (0, 0)
        for root in table.roots:
            self.roots_sum = _add(self.roots_sum, self.up[root])

    @staticmethod
    def own_cell(node: Node, known: Mapping) -> Interval:
        if node.key in known:
            return known[node.key], known[node.key]
        return _meet(node.natural, node.own)

    def branch(self, node: Node, own_interval: Interval, children_sum: Interval) -> Interval:
        value = _add(own_interval, children_sum)
        if self.table.children[node.key]:
            value = _meet(value, node.total_known)
        if value[0] > value[1]:
            raise ValueError(f"No values fit the published figures at {node.key!r}.")
        return value

    def outside_root(self, root, roots_sum: Interval | None = None, up: Interval | None = None) -> Interval:
        """What the campaign's bound on every root together leaves one root's branch."""
        if self.table.top is None:
            return EVERYTHING
        roots_sum = self.roots_sum if roots_sum is None else roots_sum
        return _sub(self.table.top, _without(roots_sum, self.up[root] if up is None else up))


def _natural_totals(table: Table) -> dict:
    if "natural totals" not in table.from_bounds:
        totals: dict = {}
        for key in reversed(table.order):
            value = table.index[key].natural
            for child in table.children[key]:
                value = _add(value, totals[child])
            totals[key] = value
        table.from_bounds["natural totals"] = totals
    return table.from_bounds["natural totals"]


def _sizes(table: Table) -> dict:
    if "sizes" not in table.from_bounds:
        sizes: dict = {}
        for key in reversed(table.order):
            sizes[key] = table.index[key].size + sum(sizes[child] for child in table.children[key])
        table.from_bounds["sizes"] = sizes
    return table.from_bounds["sizes"]


def direct_range(
    table: Table, kind: str, key, natural_totals: dict | None = None, index: Mapping | None = None
) -> Interval:
    """What the published figures say about one cell each on their own, taken together.

    For a cell h and a shown cell P that contains it, h lies in [P.lo - others' largest, P.hi -
    others' smallest]; for a shown P inside h, in [P.lo + the rest's smallest, P.hi + the rest's
    largest]. This is what a reader learns without combining figures, and the narrowing an audit
    accepts: the published figure over at least k people allows it. `index` may stand in for the
    table's nodes (the same table with one more cell hidden).
    """
    natural_totals = natural_totals or _natural_totals(table)
    index = table.index if index is None else index
    node = index[key]
    is_total = kind == "total" and not table.is_leaf(key)
    natural = natural_totals[key] if is_total or table.is_leaf(key) else node.natural
    result = natural
    # Shown cells that contain it: the branch totals above it (and its own, for a team's own cell).
    containers = []
    if not table.is_leaf(key) and node.total_known is not None:
        # A team's own cell lies inside its branch; a hidden branch may still have a floor of its own.
        containers.append(key)
    ancestor = node.parent
    while ancestor is not None:
        if index[ancestor].total_known is not None:
            containers.append(ancestor)
        ancestor = index[ancestor].parent
    for container in containers:
        published = index[container].total_known
        rest = _without(natural_totals[container], natural)
        result = _meet(result, _sub(published, rest))
    if table.top is not None:
        everything = (0, 0)
        for root in table.roots:
            everything = _add(everything, natural_totals[root])
        result = _meet(result, _sub(table.top, _without(everything, natural)))
    # Shown cells inside it: the own cells and totals of its branch.
    if is_total or table.is_leaf(key):
        for inner in table.branch(key):
            inner_node = index[inner]
            if inner_node.own is not None:
                result = _meet(result, _add(inner_node.own, _without(natural, inner_node.natural)))
            if inner != key and not table.is_leaf(inner) and inner_node.total_known is not None:
                result = _meet(result, _add(inner_node.total_known, _without(natural, natural_totals[inner])))
    return result


def hidden_cells(table: Table) -> list[tuple[str, Hashable]]:
    """Every hidden cell: ("own", key) for a team's own cell or a leaf, ("total", key) for a branch."""
    cells = []
    for node in table.nodes:
        if node.own is None:
            cells.append(("own", node.key))
        if not table.is_leaf(node.key) and node.total is None:
            cells.append(("total", node.key))
    return cells


def subtable(table: Table, roots: Iterable) -> Table:
    """The branches below `roots`, as a reader who sees only those branches sees the table."""
    keep: list = []
    for root in roots:
        keep.extend(table.branch(root))
    kept = set(keep)
    nodes = []
    for key in dict.fromkeys(keep):
        node = table.index[key]
        if node.parent not in kept:
            node = replace(node, parent=None)
        nodes.append(node)
    return Table(nodes)


def audit(table: Table, rule: Rule, readers: Iterable[Reader] = (Reader(),)) -> list[Finding]:
    """Every hidden cell that some reader can pin down more narrowly than `rule` allows.

    Each reader sees the published table, or the part of it below the teams they see, and may know
    own cells besides. A cell a reader knows is not checked for them; a cell is safe for them when
    `rule` holds for its interval, when the interval is what the figures they see say about it
    one by one, or when it is what they know without any figure (their own cells, and the bounds).
    """
    findings = []
    for reader in readers:
        view = _view(table, reader)
        known = {key: value for key, value in reader.known.items() if key in view.index}
        findings += [
            Finding(f.kind, f.key, f.interval, f.direct, f.size, f.role, reader) for f in _audit_view(view, rule, known)
        ]
    return findings


class WhatIf:
    """One reader's view of a table, with its first pass kept, to ask again and again: were one more
    cell hidden, would this hidden cell still be safe for them?

    The complement search asks that for every candidate of every finding, hundreds of times per
    question at region scale. Hiding one cell changes what its branch can add up to only along
    the path from it to its root, and a cell's interval depends on the rest of the table only
    through the path from its root down to it; so each answer is worked out along those two paths,
    in time that grows with the depth of the hierarchy, not with its size. The answer is exactly
    what `ranges` and the audit's check give for the table with the cell hidden
    (tests/services/test_audit.py compares the two on random tables).
    """

    def __init__(self, table: Table, rule: Rule, reader: Reader) -> None:
        self.view = _view(table, reader)
        self.rule = rule
        self.known = {k: v for k, v in reader.known.items() if k in self.view.index}
        self.bottom = _first_pass(self.view, self.known)
        self.natural_totals = _natural_totals(self.view)
        self.sizes = _sizes(self.view)

    def passes_hiding(self, term: tuple[str, Hashable], kind: str, key) -> tuple[bool, Interval]:
        """Whether the hidden cell (kind, key) is safe for this reader once `term` is hidden too,
        and its interval for them then."""
        view = self.view
        if key not in view.index:
            return True, EVERYTHING
        index: Mapping = view.index
        changed = None
        term_kind, unit = term
        if unit in view.index:
            node = view.index[unit]
            hidden = replace(node, own=None) if term_kind == "own" or view.is_leaf(unit) else replace(node, total=None)
            index = ChainMap({unit: hidden}, view.index)
            changed = hidden
        interval = self._interval(changed, kind, key)
        node = index[key]
        if (kind == "own" and node.own is not None) or (
            kind == "total" and not view.is_leaf(key) and node.total is not None
        ):
            return True, interval  # shown now
        finding = _check(view, self.rule, self.known, interval, self.natural_totals, self.sizes, kind, key, index)
        return finding is None, interval

    def _interval(self, changed: Node | None, kind: str, key) -> Interval:
        """The interval of (kind, key) with `changed` in place of its node: up the changed node's
        path, then down the cell's."""
        view, bottom = self.view, self.bottom
        own_interval, up, children_sum = {}, {}, {}
        if changed is not None:
            own_interval[changed.key] = bottom.own_cell(changed, self.known)
            current, below = changed.key, None
            while current is not None:
                node = changed if current == changed.key else view.index[current]
                sum_ = bottom.children_sum[current]
                if below is not None:  # one child's branch changed: the others' stay as they were
                    sum_ = _add(_without(sum_, bottom.up[below]), up[below])
                children_sum[current] = sum_
                up[current] = bottom.branch(node, own_interval.get(current, bottom.own_interval[current]), sum_)
                current, below = node.parent, current
        path = [key]
        while view.index[path[-1]].parent is not None:
            path.append(view.index[path[-1]].parent)
        path.reverse()
        root = path[0]
        roots_sum = bottom.roots_sum
        if changed is not None and view.top is not None:
            changed_root = changed.key
            while view.index[changed_root].parent is not None:
                changed_root = view.index[changed_root].parent
            roots_sum = _add(_without(roots_sum, bottom.up[changed_root]), up[changed_root])
        outside = bottom.outside_root(root, roots_sum, up.get(root, bottom.up[root]))
        for position, current in enumerate(path):
            feasible = _feasible(up.get(current, bottom.up[current]), outside, current)
            own = own_interval.get(current, bottom.own_interval[current])
            sum_ = children_sum.get(current, bottom.children_sum[current])
            if current == key:
                if kind == "total" or view.is_leaf(key):
                    return feasible
                return _meet(_sub(feasible, sum_), own)
            child = path[position + 1]
            outside = _outside_child(feasible, own, sum_, up.get(child, bottom.up[child]))
        raise AssertionError("the path ends at the cell")


def _known_anyway(table: Table, members: list, known: Mapping) -> Interval:
    """What a reader knows of a cell without any published figure: their own cells, and the rest's bounds."""
    lo = hi = 0
    for member in members:
        if member in known:
            lo, hi = lo + known[member], hi + known[member]
        else:
            natural = table.index[member].natural
            lo, hi = lo + natural[0], hi + natural[1]
    return lo, hi


def _audit_view(table: Table, rule: Rule, known: Mapping) -> list[Finding]:
    natural_totals = _natural_totals(table)
    sizes = _sizes(table)
    result = ranges(table, known)
    findings = []
    for kind, key in hidden_cells(table):
        interval = result.total[key] if kind == "total" or table.is_leaf(key) else result.own[key]
        finding = _check(table, rule, known, interval, natural_totals, sizes, kind, key)
        if finding is not None:
            findings.append(finding)
    return findings


def _check(table, rule, known, interval, natural_totals, sizes, kind, key, index=None) -> Finding | None:
    """The finding for one hidden cell whose interval for the reader is `interval`, or None if it is safe."""
    whole = kind == "total" or table.is_leaf(key)
    members = table.branch(key) if whole and known else [key]  # the branch, only where it can matter
    if known and all(member in known for member in members):
        return None
    size = sizes[key] if whole else table.index[key].size
    if rule(size, *interval):
        return None
    direct = direct_range(table, kind, key, natural_totals, index)
    if interval == direct:
        return None
    if whole and not known:
        members = table.branch(key)
    if interval == _known_anyway(table, members, known):
        return None
    return Finding(kind, key, interval, direct, size, role=tuple(sorted(known, key=repr)))
