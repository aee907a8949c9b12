"""Independent attackers for published tables: they know nothing of how a pattern or an audit works.

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
