"""The audit's intervals are the linear programme's answer, and the integer one (DESIGN.md 2.6).

services.results.audit claims that two passes of interval arithmetic over the tree give, for every
cell, exactly the smallest and largest value a linear programme finds over everything published,
and that whole numbers reach both ends. These tests hold it to that against HiGHS on random
hierarchies, and against every whole-number assignment on small ones.
"""

import math
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from gensidig.services.results.audit import Node, Reader, Table, WhatIf, audit, direct_range, ranges, subtable

from ..attackers import brute_interval, lp_interval


@st.composite
def tables(draw, max_nodes=12, max_size=6):
    """A random forest with true own values, and a random choice of what is published and how exactly."""
    count = draw(st.integers(min_value=1, max_value=max_nodes))
    parents = [None]
    for i in range(1, count):
        parents.append(draw(st.one_of(st.none(), st.integers(min_value=0, max_value=i - 1))))
    sizes = [draw(st.integers(min_value=0, max_value=max_size)) for _ in range(count)]
    values = [draw(st.integers(min_value=0, max_value=size)) for size in sizes]
    children = {i: [j for j in range(count) if parents[j] == i] for i in range(count)}

    def branch(i):
        found, stack = [], [i]
        while stack:
            current = stack.pop()
            found.append(current)
            stack.extend(children[current])
        return found

    def published(true_value):
        slack_low = draw(st.integers(min_value=0, max_value=2))
        slack_high = draw(st.integers(min_value=0, max_value=2))
        return (true_value - slack_low, true_value + slack_high)

    nodes = []
    for i in range(count):
        own = published(values[i]) if draw(st.booleans()) else None
        total, floor = None, -math.inf
        if children[i] and draw(st.booleans()):
            total = published(sum(values[j] for j in branch(i)))
        elif children[i] and draw(st.booleans()):  # hidden now, but seen earlier at a lower count
            floor = sum(values[j] for j in branch(i)) - draw(st.integers(min_value=0, max_value=2))
        nodes.append(
            Node(
                key=i,
                parent=parents[i],
                size=sizes[i],
                natural=(0, sizes[i]),
                own=own,
                total=total,
                value=values[i],
                total_floor=floor,
            )
        )
    top = published(sum(values)) if draw(st.booleans()) else None
    return Table(nodes, top=top), values


def facts_of(table):
    """The published table as the attackers read it: intervals on sums of own cells."""
    facts = []
    for node in table.nodes:
        if node.own is not None:
            facts.append((frozenset([node.key]), *node.own))
        if not table.is_leaf(node.key) and node.total_known is not None:
            facts.append((frozenset(table.branch(node.key)), *node.total_known))
    if table.top is not None:
        facts.append((frozenset(n.key for n in table.nodes), *table.top))
    return facts


def cells_of(table):
    for node in table.nodes:
        yield ("own", node.key), [node.key]
        if not table.is_leaf(node.key):
            yield ("total", node.key), table.branch(node.key)


def computed(result, table, kind, key):
    return result.total[key] if kind == "total" or table.is_leaf(key) else result.own[key]


@settings(max_examples=150, deadline=None)
@given(data=tables())
def test_every_cells_interval_is_what_a_linear_programme_finds(data):
    table, _values = data
    result = ranges(table)
    bounds = {node.key: node.natural for node in table.nodes}
    facts = facts_of(table)
    for (kind, key), members in cells_of(table):
        assert computed(result, table, kind, key) == lp_interval(bounds, facts, members), (kind, key)


@settings(max_examples=120, deadline=None)
@given(data=tables(max_nodes=5, max_size=3))
def test_whole_numbers_reach_both_ends_of_every_interval(data):
    table, _values = data
    result = ranges(table)
    bounds = {node.key: node.natural for node in table.nodes}
    targets = {f"{kind}:{key}": members for (kind, key), members in cells_of(table)}
    brute = brute_interval(bounds, facts_of(table), targets)
    for (kind, key), _members in cells_of(table):
        assert computed(result, table, kind, key) == brute[f"{kind}:{key}"], (kind, key)


@settings(max_examples=100, deadline=None)
@given(data=tables(max_nodes=8))
def test_what_a_reader_knows_is_fixed_in_the_programme_as_well(data):
    table, values = data
    known = {node.key: values[node.key] for node in table.nodes if node.key % 2 == 0}
    result = ranges(table, known)
    bounds = {
        node.key: (values[node.key], values[node.key]) if node.key in known else node.natural for node in table.nodes
    }
    for (kind, key), members in cells_of(table):
        assert computed(result, table, kind, key) == lp_interval(bounds, facts_of(table), members)


@settings(max_examples=100, deadline=None)
@given(data=tables(max_nodes=8))
def test_what_single_figures_say_is_never_narrower_than_the_audit(data):
    table, _values = data
    result = ranges(table)
    for kind, key in [("own", n.key) for n in table.nodes if n.own is None] + [
        ("total", n.key) for n in table.nodes if n.total is None and not table.is_leaf(n.key)
    ]:
        lo, hi = computed(result, table, kind, key)
        direct_lo, direct_hi = direct_range(table, kind, key)
        assert direct_lo <= lo <= hi <= direct_hi


def chain_27_of_28():
    """The attack's branch: shown "27 of 28", two units shown (5 of 6, 9 of 9), three hidden of 4, 5 and 4."""
    invited = {"shown-a": 6, "shown-b": 9, "h1": 4, "h2": 5, "h3": 4}
    answered = {"shown-a": 5, "shown-b": 9, "h1": 4, "h2": 5, "h3": 4}
    nodes = [Node("branch", None, 0, (0, 0), (0, 0), total=(27, 27), value=0)]
    for key, size in invited.items():
        own = (answered[key],) * 2 if key.startswith("shown") else None
        nodes.append(Node(key, "branch", size, (0, size), own, value=answered[key]))
    return Table(nodes)


def at_least_two_in_doubt(size, lo, hi):
    return lo <= max(0, size - 2) and hi >= min(size, 2)


def test_the_attack_that_pinned_13_named_leaders_is_found():
    findings = audit(chain_27_of_28(), at_least_two_in_doubt)
    assert {(f.key, f.interval) for f in findings} == {("h1", (4, 4)), ("h2", (5, 5)), ("h3", (4, 4))}


def test_an_unbounded_top_changes_nothing_and_a_tight_one_pins():
    nodes = [Node("a", None, 3, (0, 3), None, value=2), Node("b", None, 3, (0, 3), None, value=3)]
    assert ranges(Table(nodes)).total == {"a": (0, 3), "b": (0, 3)}
    assert ranges(Table(nodes, top=(6, 6))).total == {"a": (3, 3), "b": (3, 3)}
    assert ranges(Table(nodes, top=(-math.inf, 5))).total == {"a": (0, 3), "b": (0, 3)}


@settings(max_examples=100, deadline=None)
@given(data=tables(max_nodes=8))
def test_what_single_figures_say_is_each_figure_with_the_real_bounds_alone(data):
    table, _values = data
    bounds = {node.key: node.natural for node in table.nodes}
    hidden = [(kind, key, members) for (kind, key), members in cells_of(table)]
    for kind, key, members in hidden:
        if (kind == "own" and table.index[key].own is not None) or (
            kind == "total" and table.index[key].total is not None
        ):
            continue
        expected = lp_interval(bounds, [], members)
        for fact in facts_of(table):
            if fact[0] >= set(members) or fact[0] <= set(members):
                alone = lp_interval(bounds, [fact], members)
                expected = (max(expected[0], alone[0]), min(expected[1], alone[1]))
        assert direct_range(table, kind, key) == expected, (kind, key)


def with_hidden(table, term):
    """The table with one more cell hidden, built from scratch (what WhatIf works out along two paths)."""
    kind, unit = term
    nodes = []
    for node in table.nodes:
        if node.key == unit:
            node = replace(node, own=None) if kind == "own" or table.is_leaf(unit) else replace(node, total=None)
        nodes.append(node)
    return Table(nodes, top=table.top)


@st.composite
def readers(draw, table, values):
    if draw(st.booleans()):
        return Reader()
    keys = [node.key for node in table.nodes]
    sees = None if draw(st.booleans()) else frozenset(draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3)))
    known = {key: values[key] for key in draw(st.lists(st.sampled_from(keys), max_size=3))}
    return Reader(sees=sees, known=known)


@settings(max_examples=150, deadline=None)
@given(data=tables(max_nodes=10), choices=st.data())
def test_hiding_one_more_cell_is_worked_out_as_the_whole_audit_would(data, choices):
    """The complement search's shortcut (WhatIf) gives, for every hidden cell and every cell one might
    hide besides, the interval and the verdict of recomputing the whole table with that cell hidden."""
    table, values = data
    reader = choices.draw(readers(table, values))
    what_if = WhatIf(table, at_least_two_in_doubt, reader)
    cells = [cell for cell, _members in cells_of(table)]
    for term in cells:
        hidden_table = with_hidden(table, term)
        view = hidden_table if reader.sees is None else subtable(hidden_table, sorted(reader.sees, key=repr))
        known = {key: value for key, value in reader.known.items() if key in view.index}
        result = ranges(view, known)
        findings = {(f.kind, f.key) for f in audit(hidden_table, at_least_two_in_doubt, [reader])}
        for kind, key in cells:
            kind = "own" if table.is_leaf(key) else kind
            safe, interval = what_if.passes_hiding(term, kind, key)
            if key in view.index:
                assert interval == computed(result, view, kind, key), (term, kind, key)
            assert safe == ((kind, key) not in findings), (term, kind, key)
