"""Independent attackers for published tables: they know nothing of how a pattern or an audit works.

A cell is read with `fitting`: every distribution of n answers on 1..5 that would be printed
exactly as the cell is (mean and spread rounded half up, groups, full counts), by trying them all.

A table is given as the unknowns (each team's own cell, with the bounds it can have at all) and
the published facts about them: for a set of own cells, an interval their sum lies in. An attacker
finds, for any set of own cells, the smallest and largest sum everything published allows:

* `lp_interval` with a linear programme solved by HiGHS (scipy.optimize.linprog), and
* `brute_interval` by trying every whole-number assignment (small tables only).

Used by the audit's tests, the campaign tests and the attack tests; never by the application.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import numpy as np
from scipy.optimize import linprog

Fact = tuple[frozenset, float, float]  # (own cells, lowest sum, highest sum)


def lp_interval(
    bounds: Mapping[Hashable, tuple[float, float]], facts: Sequence[Fact], target: Iterable[Hashable]
) -> tuple[float, float]:
    """The smallest and largest sum of `target` over every real point that fits, by HiGHS."""
    keys = sorted(bounds, key=repr)
    column = {key: i for i, key in enumerate(keys)}
    rows, upper = [], []
    for members, lo, hi in facts:
        row = np.zeros(len(keys))
        for member in members:
            row[column[member]] = 1.0
        if hi != math.inf:
            rows.append(row)
            upper.append(hi)
        if lo != -math.inf:
            rows.append(-row)
            upper.append(-lo)
    objective = np.zeros(len(keys))
    for member in target:
        objective[column[member]] = 1.0
    box = [bounds[key] for key in keys]
    a_ub = np.array(rows) if rows else None
    b_ub = np.array(upper) if rows else None
    low = linprog(objective, A_ub=a_ub, b_ub=b_ub, bounds=box, method="highs")
    high = linprog(-objective, A_ub=a_ub, b_ub=b_ub, bounds=box, method="highs")
    assert low.status == 0 and high.status == 0, (low.message, high.message)
    return round(low.fun, 6), round(-high.fun, 6)


def brute_interval(
    bounds: Mapping[Hashable, tuple[int, int]], facts: Sequence[Fact], targets: Mapping[str, Iterable[Hashable]]
) -> dict[str, tuple[int, int] | None]:
    """For each named target, the smallest and largest sum over every whole-number assignment that fits."""
    keys = sorted(bounds, key=repr)
    found: dict[str, list[int]] = {name: [] for name in targets}
    members_of = {name: [keys.index(m) for m in target] for name, target in targets.items()}
    fact_rows = [([keys.index(m) for m in members], lo, hi) for members, lo, hi in facts]
    for values in itertools.product(*(range(int(bounds[key][0]), int(bounds[key][1]) + 1) for key in keys)):
        if all(lo <= sum(values[i] for i in row) <= hi for row, lo, hi in fact_rows):
            for name, positions in members_of.items():
                found[name].append(sum(values[i] for i in positions))
    return {name: (min(sums), max(sums)) if sums else None for name, sums in found.items()}


# --- One published cell, read as the reader reads it ---------------------------------------------

SCALE = (1, 2, 3, 4, 5)
PER_POINT = {"tenth": 10, "half": 2, "whole": 1}


def _half_up(value, step) -> Decimal:
    """value rounded half up to a multiple of step (a Decimal), the way the report prints it."""
    return (Decimal(value) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step


def shown_mean(answers_total: int, n: int, precision: str = "tenth") -> Decimal:
    step = Decimal(1) / PER_POINT[precision]
    return _half_up(Fraction(answers_total, n).numerator / Decimal(Fraction(answers_total, n).denominator), step)


def shown_spread(counts) -> Decimal:
    n = sum(counts)
    mean = Fraction(sum(v * c for v, c in zip(SCALE, counts, strict=True)), n)
    variance = sum(c * (v - mean) ** 2 for v, c in zip(SCALE, counts, strict=True)) / n
    with localcontext() as context:
        context.prec = 60
        sd = (Decimal(variance.numerator) / Decimal(variance.denominator)).sqrt()
    return _half_up(sd, Decimal("0.1"))


def distributions(n: int):
    """Every way n answers can fall on 1..5, as counts."""
    for cut in itertools.combinations(range(n + 4), 4):
        bounds = (-1, *cut, n + 4)
        yield tuple(bounds[i + 1] - bounds[i] - 1 for i in range(5))


def fitting(n, *, mean, precision="tenth", sd=None, groups=None, full=None):
    """Every distribution of n answers that is shown exactly as given (numbers as Decimals or floats)."""
    if full is not None:
        return [tuple(full)]
    mean = Decimal(str(mean))
    sd = None if sd is None else Decimal(str(sd))
    found = []
    for counts in distributions(n):
        if groups is not None and (counts[0] + counts[1], counts[2], counts[3] + counts[4]) != tuple(groups):
            continue
        if shown_mean(sum(v * c for v, c in zip(SCALE, counts, strict=True)), n, precision) != mean:
            continue
        if sd is not None and shown_spread(counts) != sd:
            continue
        found.append(counts)
    return found


def ends(candidates):
    """The possible lowest and highest answers over some distributions."""
    lows = {next(v for v, c in zip(SCALE, counts, strict=True) if c) for counts in candidates}
    highs = {max(v for v, c in zip(SCALE, counts, strict=True) if c) for counts in candidates}
    return lows, highs


def totals(candidates):
    """The smallest and largest sum of the answers over some distributions."""
    sums = [sum(v * c for v, c in zip(SCALE, counts, strict=True)) for counts in candidates]
    return min(sums), max(sums)


def mean_totals(n: int, mean, precision: str = "tenth") -> tuple[int, int]:
    """The sums of n answers whose mean is shown as `mean` (without enumerating distributions)."""
    mean = Decimal(str(mean))
    sums = [s for s in range(n, 5 * n + 1) if shown_mean(s, n, precision) == mean]
    return min(sums), max(sums)


def figure_totals(*, n, mean, precision="tenth", sd=None, distribution=None) -> tuple[int, int]:
    """The smallest and largest sum of n answers that fits a figure as it is printed (rounded half up)."""
    distribution = distribution or {}
    mean = _half_up(Decimal(repr(mean)), Decimal(1) / PER_POINT[precision])
    sd = None if sd is None else _half_up(Decimal(repr(sd)), Decimal("0.1"))
    if distribution.get("kind") == "full":
        return totals([tuple(distribution["counts"])])
    groups = distribution.get("counts") if distribution.get("kind") == "grouped" else None
    if sd is None and groups is None:
        return mean_totals(n, mean, precision)
    return totals(
        fitting(n, mean=mean, precision=precision, sd=None if sd is None else Decimal(str(sd)), groups=groups)
    )


def single_fact_interval(bounds, facts, members):
    """What each published fact says on its own about a cell, taken together (the accepted narrowing)."""
    best = lp_interval(bounds, [], members)
    for fact in facts:
        if fact[0] >= set(members) or fact[0] <= set(members):
            alone = lp_interval(bounds, [fact], members)
            best = (max(best[0], alone[0]), min(best[1], alone[1]))
    return best


def over_narrowed(bounds, facts, hidden, kept, known=None):
    """The hidden cells a reader narrows further than `kept(size, lo, hi)` allows.

    `hidden` lists (members, size); `known` maps own cells the reader knows to their values. A cell
    is fine when its interval keeps the protection, is what single facts say on their own, or is
    what the reader knew without any fact.
    """
    known = known or {}
    knowing = {key: (known[key], known[key]) if key in known else bound for key, bound in bounds.items()}
    extra = [(frozenset([key]), value, value) for key, value in known.items() if key in bounds]
    problems = []
    for members, size in hidden:
        if set(members) <= set(known):
            continue
        lo, hi = lp_interval(bounds, [*facts, *extra], members)
        if kept(size, lo, hi) or (lo, hi) == single_fact_interval(bounds, facts, members):
            continue
        if (lo, hi) == lp_interval(knowing, [], members):
            continue
        problems.append((sorted(members, key=repr), (lo, hi), sorted(known, key=repr)))
    return problems


# The protection levels of docs/anonymity.md, in the attacker's own words.
DOUBT = 2


def ratings_kept(n, lo, hi):
    """n answers summing to somewhere in [lo, hi]: each keeps two points of doubt, and so does the sum."""
    if n == 0:
        return True
    return min(5, hi - (n - 1)) - max(1, lo - 5 * (n - 1)) >= DOUBT and hi - lo >= DOUBT


def count_kept(invited, lo, hi):
    """A count of `invited` people in [lo, hi]: two could have stayed silent, and two could have answered."""
    return lo <= max(0, invited - DOUBT) and hi >= min(invited, DOUBT)
