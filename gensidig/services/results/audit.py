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

    def __post_init__(self) -> None:
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
    known = known or {}
    own_interval = {}
    for node in table.nodes:
        if node.key in known:
            own_interval[node.key] = (known[node.key], known[node.key])
        else:
            own_interval[node.key] = _meet(node.natural, node.own)
    up: dict = {}
    for key in reversed(table.order):
        node = table.index[key]
        value = own_interval[key]
        for child in table.children[key]:
            value = _add(value, up[child])
        if table.children[key]:
            value = _meet(value, node.total_known)
        if value[0] > value[1]:
            raise ValueError(f"No values fit the published figures at {key!r}.")
        up[key] = value
    outside: dict = {}
    roots_sum = (0, 0)
    for root in table.roots:
        roots_sum = _add(roots_sum, up[root])
    for root in table.roots:
        outside[root] = _sub(table.top, _without(roots_sum, up[root])) if table.top is not None else EVERYTHING
    own_range, total_range = {}, {}
    for key in table.order:
        feasible = _meet(up[key], outside[key])
        if feasible[0] > feasible[1]:
            raise ValueError(f"No values fit the published figures at {key!r}.")
        total_range[key] = feasible
        kids = table.children[key]
        children_sum = (0, 0)
        for child in kids:
            children_sum = _add(children_sum, up[child])
        own_range[key] = _meet(_sub(feasible, children_sum), own_interval[key])
        for child in kids:
            others = _without(children_sum, up[child])
            outside[child] = _sub(_sub(feasible, own_interval[key]), others)
    return Ranges(own=own_range, total=total_range)


def _natural_totals(table: Table) -> dict:
    totals: dict = {}
    for key in reversed(table.order):
        value = table.index[key].natural
        for child in table.children[key]:
            value = _add(value, totals[child])
        totals[key] = value
    return totals


def _sizes(table: Table) -> dict:
    sizes: dict = {}
    for key in reversed(table.order):
        sizes[key] = table.index[key].size + sum(sizes[child] for child in table.children[key])
    return sizes


def direct_range(table: Table, kind: str, key, natural_totals: dict | None = None) -> Interval:
    """What the published figures say about one cell each on their own, taken together.

    For a cell h and a shown cell P that contains it, h lies in [P.lo - others' largest, P.hi -
    others' smallest]; for a shown P inside h, in [P.lo + the rest's smallest, P.hi + the rest's
    largest]. This is what a reader learns without combining figures, and the narrowing an audit
    accepts: the published figure over at least k people allows it.
    """
    natural_totals = natural_totals or _natural_totals(table)
    node = table.index[key]
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
        if table.index[ancestor].total_known is not None:
            containers.append(ancestor)
        ancestor = table.index[ancestor].parent
    for container in containers:
        published = table.index[container].total_known
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
            inner_node = table.index[inner]
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
        view = table if reader.sees is None else subtable(table, sorted(reader.sees, key=repr))
        known = {key: value for key, value in reader.known.items() if key in view.index}
        findings += [
            Finding(f.kind, f.key, f.interval, f.direct, f.size, f.role, reader) for f in _audit_view(view, rule, known)
        ]
    return findings


def passes(table: Table, rule: Rule, reader: Reader, kind: str, key) -> tuple[bool, Interval]:
    """Whether one hidden cell is safe for one reader, and its interval for them."""
    view = table if reader.sees is None else subtable(table, sorted(reader.sees, key=repr))
    if key not in view.index:
        return True, EVERYTHING
    known = {k: v for k, v in reader.known.items() if k in view.index}
    result = ranges(view, known)
    whole = kind == "total" or view.is_leaf(key)
    interval = result.total[key] if whole else result.own[key]
    if (kind == "own" and view.index[key].own is not None) or (
        kind == "total" and not view.is_leaf(key) and view.index[key].total is not None
    ):
        return True, interval  # shown now
    finding = _check(view, rule, known, result, _natural_totals(view), _sizes(view), kind, key)
    return finding is None, interval


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
        finding = _check(table, rule, known, result, natural_totals, sizes, kind, key)
        if finding is not None:
            findings.append(finding)
    return findings


def _check(table, rule, known, result, natural_totals, sizes, kind, key) -> Finding | None:
    whole = kind == "total" or table.is_leaf(key)
    members = table.branch(key) if whole else [key]
    if all(member in known for member in members):
        return None
    interval = result.total[key] if whole else result.own[key]
    size = sizes[key] if whole else table.index[key].size
    if rule(size, *interval):
        return None
    direct = direct_range(table, kind, key, natural_totals)
    if interval == direct or interval == _known_anyway(table, members, known):
        return None
    return Finding(kind, key, interval, direct, size, role=tuple(sorted(known, key=repr)))
