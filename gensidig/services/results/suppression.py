"""Which roll-up cells to hide so that no hidden figure can be worked out from shown ones (DESIGN.md 2.6).

Pure Python: no Django, no database. tests/services/test_suppression.py checks every pattern
against an independent linear-algebra checker.

The model
---------
An organisation is a forest of units (management teams). Each unit v has an *own* cell, the
answers of the leaders in v's own team, and each unit with children also has a *total* cell, the
roll-up of v's whole branch. A leaf has a single cell, which is both its own cell and its total.
Every figure shown for a cell (counts per value, mean, spread) is a sum over its respondents, so
showing a cell is treated as giving away its whole count vector, and what could leak is purely
linear. Each unit v with children ties its cells together in one equation::

    total(v) = own(v) + sum of total(c) over the children c of v

and these equations are the only links between cells. A pattern is safe when no hidden cell, and
no group of fewer than k respondents, can be computed from the shown cells.

The rules (k is an integer of at least 3)
-----------------------------------------
1. Primary suppression: a cell with fewer than k respondents is hidden, an empty cell as well.
2. No lone unknown: in every equation the number of hidden terms is 0 or at least 2, since a
   single hidden term is the difference of the shown ones. This local rule is also enough
   globally. Read each equation as a node and each cell as an edge between the (at most two)
   equations it appears in, with one extra "outside" node for cells that appear in only one
   equation; a hidden cell can be pinned down exactly when it is a bridge of the graph of hidden
   edges. The equation nodes form a tree, so every cycle passes through the outside node, and
   when every equation node touches 0 or at least 2 hidden edges no hidden edge is a bridge.
3. No small leftover group: when a total is shown and some of its terms are hidden, subtracting
   every shown cell inside it leaves the respondents of the hidden own cells that are reachable
   from it through hidden totals. That group must hold at least k respondents (a leftover of 0
   would tell that each of its teams is empty). This is stricter than adding up n over the hidden
   terms of the equation: a hidden child total may contain shown cells, and those subtract too.
4. What a chief already knows: `known_own` names units whose own cell a chief knows anyway (the
   chief of v knows how many of their own team answered; a team left out of a campaign is known
   to be empty). A known cell is still hidden from everybody else when rule 1 hides it, and rules
   2 and 3 must hold both for an outsider and for that chief, for whom the cell is shown. So:
   a known cell never protects anything in its chief's eyes (it is not counted, and it is not
   chosen to complement another cell unless nothing else is left); an equation with a hidden
   known cell needs at least 3 hidden terms (2 besides the known one, and the known one not
   alone); and a leftover group must still hold k respondents after taking away any one known
   cell in it. A leaf's one cell is its own cell, so a leaf in `known_own` is known in its
   parent's equation.

How the pattern is found
------------------------
Primary suppression first; then a work queue of equations. An equation that breaks rule 2, 3 or
4 hides one more of its terms: the shown component (own cell or child total) with the smallest n
that no chief already knows, ties going to the own cell and then to key order; if there is none,
its total; as a last resort a known component, which still hides the cell from everyone but its
chief. Hiding a cell re-queues the equations it appears in, so hiding a child's total can cascade
down the branch and hiding a total can cascade up. Cells only ever go from shown to hidden, so
the loop ends, and an equation whose terms are all hidden satisfies every rule, so it ends in a
safe pattern. An equation needs no re-check until one of its own terms changes: the leftover group
of a shown total only grows as more cells are hidden.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Hashable, Sequence
from dataclasses import dataclass

MIN_THRESHOLD = 3

# A component's place in the tie-break: at equal n, the own cell goes before the totals.
_OWN = 0
_TOTAL = 1


@dataclass(frozen=True)
class Unit:
    """A management team in the tree and how many of its own leaders answered (for one item)."""

    key: Hashable
    parent: Hashable | None
    n: int


@dataclass(frozen=True)
class Pattern:
    """The cells to hide: one pattern for the whole hierarchy, of which every role sees a part.

    A leaf has one cell, so a hidden leaf is in both sets.
    """

    hidden_own: frozenset
    hidden_total: frozenset

    def own_shown(self, key) -> bool:
        """Whether the figures of the unit's own team may be shown."""
        return key not in self.hidden_own

    def total_shown(self, key) -> bool:
        """Whether the figures of the unit's whole branch may be shown."""
        return key not in self.hidden_total


@dataclass(frozen=True)
class _Tree:
    keys: list  # sorted, so that an index order is the key order and ties break by key
    index: dict
    parent: list[int]  # -1 for a root
    children: list[list[int]]  # each in key order
    own: list[int]
    total: list[int]
    top_down: list[int]  # every unit after its parent


def _build(units: Sequence[Unit]) -> _Tree:
    seen = set()
    for unit in units:
        if unit.key in seen:
            raise ValueError(f"Two units have the key {unit.key!r}; unit keys must be unique.")
        seen.add(unit.key)
        if isinstance(unit.n, bool) or not isinstance(unit.n, int) or unit.n < 0:
            raise ValueError(f"Unit {unit.key!r} has n={unit.n!r}; n must be a whole number of at least 0.")
    try:
        keys = sorted(seen)
    except TypeError as exc:
        raise ValueError("Unit keys must be sortable among themselves.") from exc
    index = {key: i for i, key in enumerate(keys)}
    size = len(keys)
    parent = [-1] * size
    own = [0] * size
    for unit in units:
        i = index[unit.key]
        own[i] = unit.n
        if unit.parent is not None:
            if unit.parent not in index:
                raise ValueError(f"Unit {unit.key!r} names the parent {unit.parent!r}, which is not among the units.")
            parent[i] = index[unit.parent]
    children: list[list[int]] = [[] for _ in range(size)]
    for i in range(size):  # in key order, so every children list comes out sorted
        if parent[i] >= 0:
            children[parent[i]].append(i)
    top_down = [i for i in range(size) if parent[i] < 0]
    for i in top_down:  # grows while it is walked: a breadth-first walk from the roots
        top_down.extend(children[i])
    if len(top_down) < size:
        reached = set(top_down)
        stuck = [keys[i] for i in range(size) if i not in reached]
        shown = ", ".join(repr(key) for key in stuck[:5]) + (", …" if len(stuck) > 5 else "")
        raise ValueError(f"The parent links form a cycle: no root above the units {shown}.")
    total = own[:]
    for i in reversed(top_down):
        if parent[i] >= 0:
            total[parent[i]] += total[i]
    return _Tree(keys, index, parent, children, own, total, top_down)


def totals(units: Sequence[Unit]) -> dict:
    """The n of every unit's total cell: its own n plus the n of every unit below it."""
    tree = _build(units)
    return dict(zip(tree.keys, tree.total, strict=True))


def suppression_pattern(
    units: Sequence[Unit],
    *,
    k: int,
    known_own: Collection = (),
    hide_own: Collection = (),
    hide_total: Collection = (),
) -> Pattern:
    """The cells to hide so that nothing hidden, and no group under k, can be computed from the rest.

    `units` is the whole forest for one item (n after skipped answers), `k` the anonymity
    threshold, and `known_own` the units whose own cell their chief knows anyway. `hide_own` and
    `hide_total` name cells hidden for another reason (an earlier round, the audit), treated like
    cells under k: the pattern is completed around them. A leaf named in either has its one cell
    hidden. The rules are in the module docstring. Raises ValueError for duplicate keys, unknown
    parents, cycles, negative counts, unknown keys and a k under 3.
    """
    if isinstance(k, bool) or not isinstance(k, int):
        raise ValueError(f"The anonymity threshold must be a whole number, not {k!r}.")
    if k < MIN_THRESHOLD:
        raise ValueError(f"The anonymity threshold is {k}; it may never be below {MIN_THRESHOLD}.")
    tree = _build(units)
    known = [False] * len(tree.keys)
    for key in known_own:
        if key not in tree.index:
            raise ValueError(f"known_own names {key!r}, which is not among the units.")
        known[tree.index[key]] = True
    forced_own, forced_total = [False] * len(tree.keys), [False] * len(tree.keys)
    for keys, forced in ((hide_own, forced_own), (hide_total, forced_total)):
        for key in keys:
            if key not in tree.index:
                raise ValueError(f"{key!r} is to be hidden, but it is not among the units.")
            forced[tree.index[key]] = True
    hidden_own, hidden_total = _Suppression(tree, k, known, forced_own, forced_total).run()
    return Pattern(
        hidden_own=frozenset(key for key, hidden in zip(tree.keys, hidden_own, strict=True) if hidden),
        hidden_total=frozenset(key for key, hidden in zip(tree.keys, hidden_total, strict=True) if hidden),
    )


class _Suppression:
    """The work queue of equations; one equation per unit with children, named by that unit."""

    def __init__(
        self, tree: _Tree, k: int, known: list[bool], forced_own: list[bool], forced_total: list[bool]
    ) -> None:
        self.k = k
        self.known = known
        self.parent = tree.parent
        self.children = tree.children
        self.own = tree.own
        self.total = tree.total
        self.leaf = [not c for c in tree.children]
        size = len(tree.keys)
        # A leaf's one cell lives in hidden_total only while the loop runs.
        self.hidden_own = [not self.leaf[v] and (self.own[v] < k or forced_own[v]) for v in range(size)]
        self.hidden_total = [
            t < k or forced_total[v] or (self.leaf[v] and forced_own[v]) for v, t in enumerate(self.total)
        ]
        # Counters per equation, kept up to date on every hide, so a check costs O(1) unless
        # it has to look at the leftover group.
        self.hidden_terms = [0] * size
        self.known_hidden = [0] * size
        for v in range(size):
            if self.leaf[v]:
                continue
            kids = self.children[v]
            self.hidden_terms[v] = self.hidden_total[v] + self.hidden_own[v] + sum(self.hidden_total[c] for c in kids)
            self.known_hidden[v] = (self.hidden_own[v] and known[v]) + sum(self._known_leaf_hidden(c) for c in kids)
        # Bottom-up first: a branch settles before its parent decides whether to hide it.
        equations = [v for v in reversed(tree.top_down) if not self.leaf[v]]
        self.queue = deque(equations)
        self.queued = [False] * size
        for v in equations:
            self.queued[v] = True

    def run(self) -> tuple[list[bool], list[bool]]:
        queue, queued = self.queue, self.queued
        while queue:
            v = queue.popleft()
            queued[v] = False
            if self._broken(v):
                self._complement(v)  # re-queues v, which is checked again until it holds
        hidden_own = [
            h or (leaf and t) for h, leaf, t in zip(self.hidden_own, self.leaf, self.hidden_total, strict=True)
        ]
        return hidden_own, self.hidden_total

    def _known_leaf_hidden(self, c: int) -> bool:
        return self.leaf[c] and self.known[c] and self.hidden_total[c]

    def _broken(self, v: int) -> bool:
        hidden = self.hidden_terms[v]
        if hidden == 0:
            return False
        if hidden == 1:
            return True
        # The chief who knows a hidden cell sees one unknown fewer than everybody else.
        if self.known_hidden[v] and hidden < 3:
            return True
        if not self.hidden_total[v]:
            return self._leftover(v) < self.k
        return False

    def _leftover(self, v: int) -> int:
        """The smallest group a shown total(v) gives away to anyone: its hidden own cells reachable
        through hidden totals, less the largest of them that some chief already knows."""
        hidden_own, hidden_total, own, known, leaf, children = (
            self.hidden_own,
            self.hidden_total,
            self.own,
            self.known,
            self.leaf,
            self.children,
        )
        size = largest_known = 0
        if hidden_own[v]:
            size = own[v]
            if known[v]:
                largest_known = own[v]
        stack = [c for c in children[v] if hidden_total[c]]
        while stack:
            u = stack.pop()
            if leaf[u] or hidden_own[u]:
                size += own[u]
                if known[u] and own[u] > largest_known:
                    largest_known = own[u]
            if not leaf[u]:
                stack.extend(c for c in children[u] if hidden_total[c])
        return size - largest_known

    def _complement(self, v: int) -> None:
        own, total, known, leaf = self.own, self.total, self.known, self.leaf
        best = None
        fallback = None  # the best component only its chief knows, should nothing else be left
        if not self.hidden_own[v]:
            candidate = (own[v], _OWN, v)
            if known[v]:
                fallback = candidate
            else:
                best = candidate
        for c in self.children[v]:
            if self.hidden_total[c]:
                continue
            candidate = (total[c], _TOTAL, c)
            if leaf[c] and known[c]:
                if fallback is None or candidate < fallback:
                    fallback = candidate
            elif best is None or candidate < best:
                best = candidate
        if best is None and not self.hidden_total[v]:
            self._hide_total(v)
            return
        chosen = best or fallback
        # An equation with every term hidden breaks no rule, so a broken one always has a term left.
        assert chosen is not None
        _n, kind, cell = chosen
        if kind == _OWN:
            self._hide_own(cell)
        else:
            self._hide_total(cell)

    def _enqueue(self, v: int) -> None:
        if not self.queued[v]:
            self.queued[v] = True
            self.queue.append(v)

    def _hide_own(self, v: int) -> None:
        self.hidden_own[v] = True
        self.hidden_terms[v] += 1
        if self.known[v]:
            self.known_hidden[v] += 1
        self._enqueue(v)

    def _hide_total(self, v: int) -> None:
        self.hidden_total[v] = True
        if not self.leaf[v]:
            self.hidden_terms[v] += 1
            self._enqueue(v)
        p = self.parent[v]
        if p >= 0:
            self.hidden_terms[p] += 1
            if self.leaf[v] and self.known[v]:
                self.known_hidden[p] += 1
            self._enqueue(p)
