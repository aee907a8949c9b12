"""What protect_question and protect_participation publish, attacked by readers who know nothing of how.

Random hierarchies and answer sets (hypothesis); for each, the published cells are handed to an
independent attacker (tests/attackers.py): for small trees every whole-number assignment is tried,
for larger ones HiGHS solves a linear programme per hidden cell. For every reader -- HR, each chief
with what they see and know -- no hidden cell may be narrowed more than the protection levels
allow, unless single published figures already say as much on their own. The rules are written
out here again, in the attacker's words, so a mistake in services.results.levels shows.
"""

import itertools
from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gensidig.services.results.distributions import publication, shown_for
from gensidig.services.results.history import Change, safe_publication
from gensidig.services.results.protection import ParticipationTeam, Team, protect_participation, protect_question
from gensidig.services.results.suppression import Unit, suppression_pattern

from ..attackers import (
    DOUBT,
    count_kept,
    ends,
    fitting,
    mean_totals,
    over_narrowed,
    ratings_kept,
    single_fact_interval,
    totals,
)


@st.composite
def hierarchies(draw, max_teams):
    count = draw(st.integers(min_value=1, max_value=max_teams))
    parents = [None] + [draw(st.integers(min_value=0, max_value=i - 1)) for i in range(1, count)]
    return parents


def branch_of(parents, key):
    found, stack = [], [key]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(i for i, p in enumerate(parents) if p == current)
    return found


# --- Ratings ---------------------------------------------------------------------------------------


@st.composite
def rated(draw, max_teams=6, max_n=9):
    parents = draw(hierarchies(max_teams))
    counts = {}
    for key in range(len(parents)):
        n = draw(st.integers(min_value=0, max_value=max_n))
        values = draw(st.lists(st.integers(min_value=1, max_value=5), min_size=n, max_size=n))
        dont_know = draw(st.integers(min_value=0, max_value=2))
        counts[key] = (dont_know, *(values.count(v) for v in range(1, 6)))
    return parents, counts, draw(st.integers(min_value=3, max_value=5))


def rating_facts(parents, counts, result):
    """The published question as facts on the sums of each team's answers; n is known (worst case)."""
    n = {key: sum(c[1:]) for key, c in counts.items()}
    bounds = {key: (n[key], 5 * n[key]) for key in counts}
    facts, hidden = [], []
    leaves = {key for key in counts if key not in parents}
    for key in counts:
        cell = result.own[key]
        if cell.shown is None:
            hidden.append(([key], n[key]))
        else:
            shown = cell.shown
            groups, full = shown.groups, shown.full
            mean = Decimal(shown.mean) / shown.per_point
            precision = {10: "tenth", 2: "half", 1: "whole"}[shown.per_point]
            if full is None and shown.sd is None and groups is None:
                lo, hi = mean_totals(shown.n, mean, precision)
            else:
                candidates = fitting(
                    shown.n,
                    mean=mean,
                    precision=precision,
                    sd=None if shown.sd is None else Decimal(shown.sd) / 10,
                    groups=groups,
                    full=full,
                )
                lo, hi = totals(candidates)
            facts.append((frozenset([key]), lo, hi))
        if key not in leaves:
            members = branch_of(parents, key)
            size = sum(n[m] for m in members)
            total = result.total[key]
            if total.shown is None:
                hidden.append((members, size))
            else:
                mean = Decimal(total.shown.mean) / total.shown.per_point
                precision = {10: "tenth", 2: "half", 1: "whole"}[total.shown.per_point]
                facts.append((frozenset(members), *mean_totals(size, mean, precision)))
    return bounds, facts, hidden


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=rated(max_teams=10))
def test_no_hidden_rating_cell_is_narrowed_past_its_protection_by_a_linear_programme(data):
    parents, counts, k = data
    teams = [Team(key, parent) for key, parent in enumerate(parents)]
    result = protect_question(teams=teams, counts=counts, k=k)
    for cell in result.own.values():
        assert cell.shown is None or cell.shown.n >= k
    bounds, facts, hidden = rating_facts(parents, counts, result)
    assert not over_narrowed(bounds, facts, hidden, ratings_kept)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=rated(max_teams=3, max_n=4))
def test_no_hidden_rating_cell_is_narrowed_past_its_protection_by_trying_every_assignment(data):
    parents, counts, k = data
    teams = [Team(key, parent) for key, parent in enumerate(parents)]
    result = protect_question(teams=teams, counts=counts, k=k)
    bounds, facts, hidden = rating_facts(parents, counts, result)
    keys = sorted(bounds)
    found = {tuple(members): [] for members, _size in hidden}
    for values in itertools.product(*(range(bounds[key][0], bounds[key][1] + 1) for key in keys)):
        given_ = dict(zip(keys, values, strict=True))
        if all(lo <= sum(given_[m] for m in members) <= hi for members, lo, hi in facts):
            for members in found:
                found[members].append(sum(given_[m] for m in members))
    for members, size in hidden:
        sums = found[tuple(members)]
        lo, hi = min(sums), max(sums)
        assert ratings_kept(size, lo, hi) or (lo, hi) == single_fact_interval(bounds, facts, members)


# --- Rule 3, against every distribution -------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.integers(min_value=1, max_value=5), min_size=3, max_size=7))
def test_what_a_cell_publishes_never_pins_both_ends_where_its_mean_alone_would_not(values):
    counts = tuple(values.count(v) for v in range(1, 6))
    shown = publication(counts)
    everything = shown_for(counts)
    assert shown.n == len(values) and shown.mean == everything.mean
    mean = Decimal(shown.mean) / 10
    published = fitting(
        shown.n, mean=mean, sd=None if shown.sd is None else Decimal(shown.sd) / 10, groups=shown.groups
    )
    assert counts in published
    lows, highs = ends(published)
    mean_lows, mean_highs = ends(fitting(shown.n, mean=mean))
    assert len(lows) > 1 or len(highs) > 1 or (len(mean_lows) == 1 and len(mean_highs) == 1)
    # And nothing is left out that could have been shown: with everything, both ends would be pinned.
    if shown != everything:
        full = fitting(everything.n, mean=mean, sd=Decimal(everything.sd) / 10, groups=everything.groups)
        full_lows, full_highs = ends(full)
        assert len(full_lows) == 1 and len(full_highs) == 1


# --- Participation ----------------------------------------------------------------------------------


@st.composite
def participating(draw, max_teams=12, max_invited=9):
    parents = draw(hierarchies(max_teams))
    invited = [draw(st.integers(min_value=0, max_value=max_invited)) for _ in parents]
    answered = [draw(st.integers(min_value=0, max_value=i)) for i in invited]
    # Each team's chief is someone of their own; some chiefs lead two teams; some are also HR.
    chiefs = {}
    for key in range(len(parents)):
        chiefs.setdefault(draw(st.integers(min_value=0, max_value=len(parents) - 1)), []).append(key)
    admins = set(draw(st.lists(st.sampled_from(sorted(chiefs)), max_size=2)))
    return parents, invited, answered, chiefs, admins, draw(st.integers(min_value=3, max_value=5))


def count_check(parents, invited, answered, result, *, sees, knows):
    """Attack the published counts as one reader; returns what they narrow too far."""
    keys = sorted(set().union(*(branch_of(parents, r) for r in sees)))
    bounds = {key: (0, invited[key]) for key in keys}
    facts, hidden = [], []
    for key in keys:
        members = frozenset(branch_of(parents, key))
        if key in result.own_shown:
            facts.append((frozenset([key]), answered[key], answered[key]))
        else:
            hidden.append((frozenset([key]), invited[key]))
        if len(members) > 1:
            branch_answered = sum(answered[m] for m in members)
            if key in result.total_shown:
                facts.append((members, branch_answered, branch_answered))
            else:
                hidden.append((members, sum(invited[m] for m in members)))
    known = {key: answered[key] for key in knows if key in bounds}
    return over_narrowed(bounds, facts, hidden, count_kept, known)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=participating())
# A chief who knows cells on both sides of two shown totals: only hiding both helps.
@example(data=([None, 0, 1, 1], [3, 0, 1, 3], [3, 0, 0, 3], {0: [0, 1, 2], 1: [3]}, set(), 3))
def test_no_reader_narrows_a_hidden_participation_count_past_its_protection(data):
    parents, invited, answered, chiefs, admins, k = data
    teams = [ParticipationTeam(key, parent, invited[key], answered[key]) for key, parent in enumerate(parents)]
    result = protect_participation(teams=teams, k=k, chiefs=chiefs, admins=admins)
    roots = [key for key, parent in enumerate(parents) if parent is None]
    for key in range(len(parents)):
        assert key not in result.own_shown or answered[key] >= k
    assert not count_check(parents, invited, answered, result, sees=roots, knows=set())  # HR
    for chief, led in chiefs.items():
        hidden_led = {key for key in led if key not in result.own_shown}
        sees = roots if chief in admins else led
        assert not count_check(parents, invited, answered, result, sees=sees, knows=hidden_led), chief


# --- Earlier rounds: the same people, but for a few ----------------------------------------------


def possible_totals(shown):
    """Every sum of the answers that fits what a cell shows (exactly, not only its smallest and largest)."""
    precision = {10: "tenth", 2: "half", 1: "whole"}[shown.per_point]
    mean = Decimal(shown.mean) / shown.per_point
    if shown.full is None and shown.sd is None and shown.groups is None:
        lo, hi = mean_totals(shown.n, mean, precision)
        return set(range(lo, hi + 1))
    candidates = fitting(
        shown.n,
        mean=mean,
        precision=precision,
        sd=None if shown.sd is None else Decimal(shown.sd) / 10,
        groups=shown.groups,
        full=shown.full,
    )
    return {sum(v * c for v, c in zip(range(1, 6), counts, strict=True)) for counts in candidates}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stayed=st.lists(st.integers(min_value=1, max_value=5), min_size=2, max_size=9),
    left=st.lists(st.integers(min_value=1, max_value=5), max_size=2),
    joined=st.lists(st.integers(min_value=1, max_value=5), max_size=2),
)
def test_a_leaver_or_joiner_keeps_two_points_of_doubt_when_everyone_else_answered_as_before(stayed, left, joined):
    def counts(values):
        return tuple(values.count(v) for v in range(1, 6))

    earlier_values, later_values = stayed + left, stayed + joined
    if len(earlier_values) < 3 or len(later_values) < 3 or not (left or joined):
        return
    earlier = publication(counts(earlier_values))
    change = Change(left=len(left), joined=len(joined))
    later = safe_publication(counts(later_values), publication(counts(later_values)), [(earlier, change)])
    if later is None:
        return  # nothing shown: nothing to subtract
    before, after = possible_totals(earlier), possible_totals(later)
    differences = {b - a for b in before for a in after}
    # The attacker tries every answer of the people who changed.
    for who, count in (("left", len(left)), ("joined", len(joined))):
        if not count:
            continue
        possible = set()
        for gone in itertools.product(range(1, 6), repeat=len(left)):
            for came in itertools.product(range(1, 6), repeat=len(joined)):
                if sum(gone) - sum(came) in differences:
                    possible.add((gone if who == "left" else came)[0])
        assert max(possible) - min(possible) >= DOUBT, (who, sorted(possible), later)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=rated(max_teams=12, max_n=7))
def test_the_audit_only_ever_hides_more_than_the_pattern_alone(data):
    # What the first pattern hides stays hidden, whatever the audit adds: a pass that showed a
    # cell again would need the audit to look at it once more, and the loop would not only hide.
    parents, counts, k = data
    teams = [Team(key, parent) for key, parent in enumerate(parents)]
    units = [Unit(key=key, parent=parent, n=sum(counts[key][1:])) for key, parent in enumerate(parents)]
    first = suppression_pattern(units, k=k)
    result = protect_question(teams=teams, counts=counts, k=k)
    for key in range(len(parents)):
        if not first.own_shown(key):
            assert result.own[key].shown is None, ("own", key)
        if key in result.total and not first.total_shown(key):
            assert result.total[key].shown is None, ("total", key)
