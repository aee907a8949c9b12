"""Roll-up suppression (DESIGN.md 2.6), checked against an exact linear-algebra model of what leaks."""

import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gensidig.services.results.suppression import Pattern, Unit, suppression_pattern, totals

# ---------------------------------------------------------------------------------------------
# The checker. It knows nothing of equations or of how the pattern was chosen: the unknowns are
# the own cells of all units, every shown cell is a row (an own cell its unit vector, a total the
# indicator of its branch), and a hidden cell leaks exactly when its row lies in the span of the
# shown rows.
# ---------------------------------------------------------------------------------------------


class Span:
    """The row space of some rows, kept in reduced row echelon form with exact fractions."""

    def __init__(self, width):
        self.width = width
        self.rows = {}  # pivot column -> row with a 1 there and 0 in every other pivot column

    @property
    def rank(self):
        return len(self.rows)

    def residue(self, row):
        row = [Fraction(x) for x in row]
        for pivot, basis_row in self.rows.items():
            factor = row[pivot]
            if factor:
                row = [x - factor * b for x, b in zip(row, basis_row, strict=True)]
        return row

    def add(self, row):
        row = self.residue(row)
        pivot = next((i for i, x in enumerate(row) if x), None)
        if pivot is None:
            return
        row = [x / row[pivot] for x in row]
        for other, basis_row in self.rows.items():
            factor = basis_row[pivot]
            if factor:
                self.rows[other] = [b - factor * x for b, x in zip(basis_row, row, strict=True)]
        self.rows[pivot] = row


def rank_with(span, residues):
    """rank(A + extra rows), given each extra row's residue modulo A."""
    extra = Span(span.width)
    for row in residues:
        extra.add(row)
    return span.rank + extra.rank


class Model:
    """The forest as the checker sees it: which own cells each cell adds up."""

    def __init__(self, units):
        self.units = {u.key: u for u in units}
        self.order = sorted(self.units)
        self.column = {key: i for i, key in enumerate(self.order)}
        self.children = {key: [] for key in self.order}
        for u in units:
            if u.parent is not None:
                self.children[u.parent].append(u.key)
        self.branch = {key: self._branch(key) for key in self.order}

    def _branch(self, key):
        found, stack = set(), [key]
        while stack:
            u = stack.pop()
            found.add(u)
            stack.extend(self.children[u])
        return frozenset(found)

    def cells(self):
        """Every cell as (name, set of own cells it adds up). A leaf has one cell."""
        for key in self.order:
            if self.children[key]:
                yield ("own", key), frozenset([key])
                yield ("total", key), self.branch[key]
            else:
                yield ("leaf", key), frozenset([key])

    def row(self, members):
        row = [0] * len(self.order)
        for key in members:
            row[self.column[key]] = 1
        return row

    def n(self, members):
        return sum(self.units[key].n for key in members)


def is_hidden(pattern, name):
    kind, key = name
    if kind == "own":
        return not pattern.own_shown(key)
    if kind == "total":
        return not pattern.total_shown(key)
    assert pattern.own_shown(key) == pattern.total_shown(key), f"leaf {key!r} is both shown and hidden"
    return not pattern.own_shown(key)


def leaks(units, pattern, *, k, known_own=()):
    """Everything the pattern gives away, as readable sentences; an empty list means it is safe."""
    model = Model(units)
    cells = list(model.cells())
    shown = [(name, members) for name, members in cells if not is_hidden(pattern, name)]
    hidden = [(name, members) for name, members in cells if is_hidden(pattern, name)]
    span = Span(len(model.order))
    for _name, members in shown:
        span.add(model.row(members))
    residue = {name: span.residue(model.row(members)) for name, members in hidden}
    problems = []

    for name, members in cells:
        if model.n(members) < k and not is_hidden(pattern, name):
            problems.append(f"{name} has n={model.n(members)} < k and is shown")

    # (a) An outsider, who sees only the shown cells.
    for name, _members in hidden:
        if rank_with(span, [residue[name]]) == span.rank:
            problems.append(f"{name} is hidden but follows from the shown cells")

    # (b) A shown total less every shown cell inside it leaves a group; it must be empty or hold
    # k respondents, also for a chief who already knows one own cell in it.
    def leftovers(known_key=None):
        for (kind, key), members in shown:
            if kind != "total":
                continue
            covered = set()
            for (_kind, _key), inner in shown:
                if inner < members:
                    covered |= inner
            if known_key is not None:
                covered.add(known_key)
            rest = members - covered
            if rest and model.n(rest) < k:
                yield f"total {key!r} less the shown cells inside it leaves {sorted(rest)} with n={model.n(rest)}"

    problems.extend(leftovers())

    # (c) The chief of each unit in known_own, who also knows that unit's own cell.
    for known_key in known_own:
        own_name = ("own", known_key) if model.children[known_key] else ("leaf", known_key)
        known_residue = span.residue(model.row([known_key]))
        for name, _members in hidden:
            if name == own_name:
                continue
            if rank_with(span, [known_residue, residue[name]]) == rank_with(span, [known_residue]):
                problems.append(f"{name} follows from the shown cells for the chief of {known_key!r}")
        if is_hidden(pattern, own_name):
            problems.extend(f"for the chief of {known_key!r}: {leak}" for leak in leftovers(known_key))
    return problems


def assert_safe(units, pattern, *, k, known_own=()):
    problems = leaks(units, pattern, k=k, known_own=known_own)
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# Examples
# ---------------------------------------------------------------------------------------------


def forest(*rows):
    """Units from (key, parent, n) rows."""
    return [Unit(key=key, parent=parent, n=n) for key, parent, n in rows]


def test_a_tree_where_every_cell_reaches_k_hides_nothing():
    units = forest(("ceo", None, 5), ("a", "ceo", 6), ("b", "ceo", 7), ("a1", "a", 5), ("a2", "a", 9))
    pattern = suppression_pattern(units, k=5)
    assert pattern == Pattern(hidden_own=frozenset(), hidden_total=frozenset())
    assert pattern.own_shown("a") and pattern.total_shown("a") and pattern.total_shown("a1")


def test_a_child_under_k_forces_a_second_hidden_cell():
    units = forest(("p", None, 6), ("a", "p", 2), ("b", "p", 9))
    pattern = suppression_pattern(units, k=5)
    # Hidden a alone would be total(p) - own(p) - b; the smallest other term goes with it.
    assert pattern.hidden_total == {"a"}
    assert pattern.hidden_own == {"a", "p"}
    assert pattern.total_shown("p") and pattern.total_shown("b")
    assert_safe(units, pattern, k=5)


def test_the_checker_catches_a_roll_up_that_can_be_subtracted():
    units = forest(("p", None, 6), ("a", "p", 2), ("b", "p", 9))
    primary_only = Pattern(hidden_own=frozenset({"a"}), hidden_total=frozenset({"a"}))
    assert leaks(units, primary_only, k=5) == [
        "('leaf', 'a') is hidden but follows from the shown cells",
        "total 'p' less the shown cells inside it leaves ['a'] with n=2",
    ]


def test_the_checker_catches_a_small_leftover_group():
    # Hiding b with a keeps both unknown, but total(p) - own(p) = a + b is a group of 4.
    units = forest(("p", None, 6), ("a", "p", 2), ("b", "p", 2), ("c", "p", 9))
    both = Pattern(hidden_own=frozenset({"a", "b"}), hidden_total=frozenset({"a", "b"}))
    assert leaks(units, both, k=5) == ["total 'p' less the shown cells inside it leaves ['a', 'b'] with n=4"]


def test_hiding_a_childs_total_cascades_into_its_own_equation():
    units = forest(
        ("r", None, 20),
        ("m", "r", 6),
        ("x", "m", 5),
        ("y", "m", 5),
        ("l", "r", 2),
    )
    pattern = suppression_pattern(units, k=5)
    # l is under k, so r's equation hides its smallest other term, total(m) = 16; then m's
    # equation has one hidden term and hides its smallest shown one, x (tied with y, first by key).
    assert pattern.hidden_total == {"l", "m", "x"}
    assert pattern.hidden_own == {"l", "x"}
    assert pattern.own_shown("m") and pattern.total_shown("r") and pattern.own_shown("r")
    assert_safe(units, pattern, k=5)


def test_the_leftover_group_counts_only_what_the_shown_cells_cannot_explain():
    # Adding up n over r's hidden terms (own(r) = 0, total(m) = 15) would pass at k=6, yet if
    # only those two were hidden, total(r) - leaf = own(r) + own(m) = 5 respondents. Whatever the
    # order the equations are checked in, the leaf goes too, and total(r) leaves over all 15.
    units = forest(("r", None, 0), ("m", "r", 5), ("leaf", "m", 10))
    pattern = suppression_pattern(units, k=6)
    assert pattern.hidden_own == {"r", "m", "leaf"}
    assert pattern.hidden_total == {"m", "leaf"}
    assert pattern.total_shown("r")
    assert_safe(units, pattern, k=6)


def test_when_no_component_is_left_the_total_is_hidden():
    units = forest(("p", None, 3), ("a", "p", 10))
    pattern = suppression_pattern(units, k=5, known_own={"p"})
    # Its chief knows own(p) = 3, so total(p) shown would give a away, and a shown would give
    # own(p) away to everybody else: the only way out is to hide all three cells.
    assert pattern.hidden_own == {"p", "a"}
    assert pattern.hidden_total == {"p", "a"}
    assert_safe(units, pattern, k=5, known_own={"p"})


def test_a_small_team_at_the_top_hides_a_second_root_cell():
    units = forest(("r", None, 1), ("a", "r", 8), ("b", "r", 12))
    pattern = suppression_pattern(units, k=5)
    assert pattern.hidden_own == {"r", "a"}
    assert pattern.hidden_total == {"a"}
    assert_safe(units, pattern, k=5)


def test_a_known_own_cell_is_never_the_complement_in_its_own_equation():
    units = forest(("p", None, 6), ("a", "p", 2), ("b", "p", 9))
    unknown = suppression_pattern(units, k=5)
    known = suppression_pattern(units, k=5, known_own={"p"})
    assert unknown.hidden_own == {"a", "p"}
    # The chief of p knows own(p), so hiding it would protect a from nobody who matters; b goes instead.
    assert known.own_shown("p")
    assert known.hidden_total == {"a", "b"}
    assert_safe(units, known, k=5, known_own={"p"})


def test_a_small_known_own_cell_is_still_kept_from_everyone_else():
    units = forest(("p", None, 3), ("a", "p", 10), ("b", "p", 12))
    pattern = suppression_pattern(units, k=5, known_own={"p"})
    # Outsiders must not get own(p) = total(p) - a - b, and its chief must not get a or b from
    # total(p) - own(p): with own(p) hidden, two more terms go.
    assert not pattern.own_shown("p")
    assert pattern.hidden_total == {"a", "b"}
    assert pattern.total_shown("p")
    assert_safe(units, pattern, k=5, known_own={"p"})


def test_a_team_left_out_of_a_campaign_is_known_to_be_empty():
    units = forest(("p", None, 0), ("a", "p", 3), ("b", "p", 6), ("c", "p", 7))
    pattern = suppression_pattern(units, k=5, known_own={"p"})
    assert not pattern.own_shown("p")
    # own(p) = 0 is hidden by rule 1 and its chief knows it, so a needs two more hidden partners.
    assert pattern.hidden_total == {"a", "b"}
    assert_safe(units, pattern, k=5, known_own={"p"})


def test_a_known_leaf_counts_as_known_in_its_parents_equation():
    # The chief of leaf a knows a = 2; with only a and b hidden, a - total(p) + own(p) gives b.
    units = forest(("p", None, 20), ("a", "p", 2), ("b", "p", 6), ("c", "p", 9))
    pattern = suppression_pattern(units, k=5, known_own={"a"})
    assert pattern.hidden_total == {"a", "b", "c"}
    assert_safe(units, pattern, k=5, known_own={"a"})
    assert leaks(units, suppression_pattern(units, k=5), k=5, known_own={"a"})


def test_the_pattern_does_not_depend_on_the_order_of_the_units():
    units = forest(
        ("r", None, 4),
        ("a", "r", 3),
        ("b", "r", 6),
        ("c", "r", 6),
        ("a1", "a", 2),
        ("a2", "a", 7),
        ("b1", "b", 1),
    )
    first = suppression_pattern(units, k=5, known_own={"b"})
    for seed in range(5):
        shuffled = units[:]
        random.Random(seed).shuffle(shuffled)
        assert suppression_pattern(shuffled, k=5, known_own={"b"}) == first


def test_totals_add_up_each_branch():
    units = forest(("r", None, 1), ("a", "r", 2), ("b", "r", 3), ("a1", "a", 4), ("s", None, 5))
    assert totals(units) == {"r": 10, "a": 6, "b": 3, "a1": 4, "s": 5}


@pytest.mark.parametrize(
    ("units", "kwargs", "message"),
    [
        (forest(("a", None, 5), ("a", None, 6)), {"k": 5}, "unique"),
        (forest(("a", None, 5), ("b", "x", 6)), {"k": 5}, "not among the units"),
        (forest(("a", "b", 5), ("b", "a", 6)), {"k": 5}, "cycle"),
        (forest(("a", "a", 5)), {"k": 5}, "cycle"),
        (forest(("r", None, 5), ("a", "r", 5), ("b", "c", 6), ("c", "b", 6)), {"k": 5}, "cycle"),
        (forest(("a", None, -1)), {"k": 5}, "at least 0"),
        (forest(("a", None, 5)), {"k": 2}, "below 3"),
        (forest(("a", None, 5)), {"k": 4.5}, "whole number"),
        (forest(("a", None, 5)), {"k": 5, "known_own": {"z"}}, "known_own"),
    ],
)
def test_invalid_input_is_refused_with_a_clear_message(units, kwargs, message):
    with pytest.raises(ValueError, match=message):
        suppression_pattern(units, **kwargs)


def test_totals_refuse_a_cycle():
    with pytest.raises(ValueError, match="cycle"):
        totals(forest(("a", "b", 1), ("b", "a", 1)))


# ---------------------------------------------------------------------------------------------
# Properties over random forests
# ---------------------------------------------------------------------------------------------

MAX_UNITS = 40  # keeps the exact checker quick; the shapes still reach five levels


@st.composite
def forests(draw):
    """1 to 5 levels, 1 to 4 children under a unit that has any, own n from 0 to 12."""
    depth = draw(st.integers(min_value=1, max_value=5))
    roots = draw(st.integers(min_value=1, max_value=3))
    size = draw(st.integers(min_value=roots, max_value=MAX_UNITS))
    units, level, children = [], [], []
    for key in range(size):
        parent = None
        if key >= roots:
            room = [u for u in range(key) if level[u] < depth and children[u] < 4]
            if not room:
                break
            # Counted from the newest unit, so that small draws build deep chains.
            parent = room[-1 - draw(st.integers(min_value=0, max_value=len(room) - 1))]
            children[parent] += 1
        units.append(Unit(key=key, parent=parent, n=draw(st.integers(min_value=0, max_value=12))))
        level.append(1 if parent is None else level[parent] + 1)
        children.append(0)
    return units


thresholds = st.integers(min_value=3, max_value=6)


@st.composite
def known_subsets(draw, units):
    if not draw(st.booleans()):
        return frozenset()
    return frozenset(draw(st.sets(st.sampled_from([u.key for u in units]))))


@settings(max_examples=300, deadline=None)
@given(data=st.data(), units=forests(), k=thresholds)
def test_no_hidden_cell_and_no_small_group_can_be_computed(data, units, k):
    known_own = data.draw(known_subsets(units))
    pattern = suppression_pattern(units, k=k, known_own=known_own)
    assert_safe(units, pattern, k=k, known_own=known_own)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), units=forests(), k=thresholds, items=st.integers(min_value=1, max_value=4))
def test_every_item_is_safe_when_some_leaders_skip_it(data, units, k, items):
    known_own = data.draw(known_subsets(units))
    for _ in range(items):
        answered = [Unit(key=u.key, parent=u.parent, n=u.n - data.draw(st.integers(0, u.n))) for u in units]
        pattern = suppression_pattern(answered, k=k, known_own=known_own)
        assert_safe(answered, pattern, k=k, known_own=known_own)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), units=forests(), k=thresholds)
def test_a_known_own_cell_is_hidden_only_when_under_k_or_nothing_else_is_left(data, units, k):
    known_own = data.draw(known_subsets(units))
    pattern = suppression_pattern(units, k=k, known_own=known_own)
    by_key = {u.key: u for u in units}
    children = {u.key: [c.key for c in units if c.parent == u.key] for u in units}
    for key in known_own:
        if not children[key] or pattern.own_shown(key) or by_key[key].n < k:
            continue
        # Complementing with a known cell is the last resort: every other term was hidden already.
        assert not pattern.total_shown(key)
        assert all(not pattern.total_shown(c) or (not children[c] and c in known_own) for c in children[key])
