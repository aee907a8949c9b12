"""What one published cell gives away about its answers, and how much of it may be published (DESIGN.md 2.3).

A cell is the leaders' answers to one question in one group (a team, or a branch). What is shown of
it -- how many answered (n), the mean, the spread, and the distribution (three groups from 5
answers, the full scale from 8) -- is shown rounded, and everything here works with exactly what is
shown: a candidate distribution is consistent with a cell when it would be shown the same way.

Rule 3 says that the minimum and the maximum may not be worked out from a cell. An exact
enumeration of every distribution of n answers on the 1-5 scale that is shown the same way tells
which lowest and highest answers are still possible; more than one lowest, or more than one highest,
must remain. Where they would not, the spread is left out, then the groups, then both. The mean
alone can pin both ends by itself (five answers with mean 4.8 can only be four 5s and a 4): that is
arithmetic over at least k people, the limit named in docs/anonymity.md, and then the mean is
shown alone.

From 8 answers the full distribution is shown by design (DESIGN.md 2.3); it names its own lowest and
highest value, so the check does not apply to it.

Pure Python with integers only: no floating point decides what is shown.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

SCALE = (1, 2, 3, 4, 5)
GROUPED_FROM = 5
FULL_FROM = 8
# A mean is shown to a tenth; where an earlier round could be subtracted, to a half or a whole point.
TENTHS = 10
HALVES = 2
WHOLES = 1
# Above this many answers a cell is never enumerated: it shows its full distribution, or only a mean.
ENUMERATION_LIMIT = FULL_FROM - 1


def mean_units(total: int, n: int, per_point: int = TENTHS) -> int:
    """The mean total/n rounded half up to 1/per_point, counted in those units (3.7 -> 37 in tenths)."""
    return (2 * per_point * total + n) // (2 * n)


def sd_tenths(counts: Sequence[int]) -> int:
    """The spread (population standard deviation) of counts of 1..5, rounded half up, in tenths.

    Exact: with var = P/R, the shown t is the largest whole number with (t - 1/2)^2 <= 100 var,
    which integer square roots find without rounding error.
    """
    n = sum(counts)
    total = sum(value * count for value, count in zip(SCALE, counts, strict=True))
    squares = sum(value * value * count for value, count in zip(SCALE, counts, strict=True))
    p, r = n * squares - total * total, n * n
    return (math.isqrt(400 * p * r) + r) // (2 * r)


def grouped(counts: Sequence[int]) -> tuple[int, int, int]:
    """Low (1-2), middle (3) and high (4-5), as a distribution of 5 to 7 answers is shown."""
    return (counts[0] + counts[1], counts[2], counts[3] + counts[4])


def total_of(counts: Sequence[int]) -> int:
    return sum(value * count for value, count in zip(SCALE, counts, strict=True))


def total_range(n: int, units: int, per_point: int) -> tuple[int, int]:
    """Every sum of n answers whose mean is shown as `units`: n(2u-1) <= 2 per_point S < n(2u+1)."""
    lo = -(-n * (2 * units - 1) // (2 * per_point))
    hi = -(-n * (2 * units + 1) // (2 * per_point)) - 1
    return max(lo, n), min(hi, 5 * n)


@dataclass(frozen=True)
class Shown:
    """What one cell publishes, exactly as it is shown; None where a figure is left out."""

    n: int
    mean: int  # in units of 1/per_point
    per_point: int = TENTHS
    sd: int | None = None  # in tenths
    groups: tuple[int, int, int] | None = None
    full: tuple[int, int, int, int, int] | None = None

    @property
    def mean_value(self) -> float:
        return self.mean / self.per_point

    @property
    def sd_value(self) -> float | None:
        return None if self.sd is None else self.sd / 10

    @property
    def exact_to_a_tenth(self) -> bool:
        return self.per_point == TENTHS


def shown_for(counts: Sequence[int], *, sd: bool = True, groups: bool = True, per_point: int = TENTHS) -> Shown:
    """Everything a cell with these counts of 1..5 could show; `sd` and `groups` leave figures out."""
    n = sum(counts)
    counts = tuple(counts)
    return Shown(
        n=n,
        mean=mean_units(total_of(counts), n, per_point),
        per_point=per_point,
        sd=sd_tenths(counts) if sd else None,
        groups=grouped(counts) if groups and GROUPED_FROM <= n < FULL_FROM else None,
        full=counts if groups and n >= FULL_FROM else None,
    )


@lru_cache(maxsize=64)
def _compositions(n: int) -> tuple[tuple[int, int, int, int, int], ...]:
    found = []
    for c1 in range(n + 1):
        for c2 in range(n - c1 + 1):
            for c3 in range(n - c1 - c2 + 1):
                for c4 in range(n - c1 - c2 - c3 + 1):
                    found.append((c1, c2, c3, c4, n - c1 - c2 - c3 - c4))
    return tuple(found)


@lru_cache(maxsize=4096)
def consistent(shown: Shown) -> tuple[tuple[int, ...], ...]:
    """Every distribution of shown.n answers on 1..5 that would be shown exactly as `shown` is."""
    if shown.full is not None:
        return (shown.full,)
    if shown.n > ENUMERATION_LIMIT:
        raise ValueError(f"A cell of {shown.n} answers shows its full distribution or is not enumerated.")
    return _shown_alike(shown.n, shown.per_point).get((shown.mean, shown.sd, shown.groups), ())


@lru_cache(maxsize=64)
def _shown_alike(n: int, per_point: int) -> dict[tuple, tuple[tuple[int, ...], ...]]:
    """Every distribution of n answers, filed under each way it can be shown: (mean, spread, groups),
    with None for a figure left out.

    One pass over the distributions per size, instead of one per shown cell: a close at 5,000
    people asks about some thousand different cells, and enumerated each of them in turn.
    """
    found: dict[tuple, list] = {}
    for counts in _compositions(n):
        mean, spread, groups = mean_units(total_of(counts), n, per_point), sd_tenths(counts), grouped(counts)
        for key in ((mean, spread, groups), (mean, None, groups), (mean, spread, None), (mean, None, None)):
            found.setdefault(key, []).append(counts)
    return {key: tuple(candidates) for key, candidates in found.items()}


def extremes(candidates: Sequence[Sequence[int]]) -> tuple[frozenset[int], frozenset[int]]:
    """The lowest and the highest answer of each candidate distribution: the possible minima and maxima."""
    lows = frozenset(next(v for v, c in zip(SCALE, counts, strict=True) if c) for counts in candidates)
    highs = frozenset(
        next(v for v, c in zip(reversed(SCALE), reversed(counts), strict=True) if c) for counts in candidates
    )
    return lows, highs


@lru_cache(maxsize=16384)
def gives_away_both_ends(shown: Shown) -> bool:
    """Whether everything `shown` publishes together pins both the lowest and the highest answer,
    where the mean alone would not (rule 3: more than one possible minimum, or more than one
    possible maximum, must remain)."""
    if shown.full is not None:
        return False  # by design from 8 answers (DESIGN.md 2.3)
    lows, highs = extremes(consistent(shown))
    if len(lows) > 1 or len(highs) > 1:
        return False
    mean_lows, mean_highs = extremes(consistent(Shown(n=shown.n, mean=shown.mean, per_point=shown.per_point)))
    return len(mean_lows) > 1 or len(mean_highs) > 1


def publication(counts: Sequence[int]) -> Shown:
    """What a shown cell with these counts of 1..5 publishes under rule 3 (see `keeping_ends_open`)."""
    return _publication(tuple(counts))


@lru_cache(maxsize=16384)
def _publication(counts: tuple[int, ...]) -> Shown:
    return keeping_ends_open(shown_for(counts))


def keeping_ends_open(full: Shown) -> Shown:
    """The most of `full` that does not pin both the lowest and the highest answer.

    Everything, unless together it pins both ends; then without the spread, then without the
    groups (keeping the spread), then the mean alone, whichever comes first. The mean alone always
    passes: where it pins both ends by itself (nearly everyone gave the same answer), that is the
    arithmetic limit docs/anonymity.md names.
    """
    if full.n > ENUMERATION_LIMIT:
        return full
    for option in (full, replace(full, sd=None), replace(full, groups=None), replace(full, sd=None, groups=None)):
        if not gives_away_both_ends(option):
            return option
    raise AssertionError("the mean alone is the baseline and cannot give away more than itself")


def coarse_from_counts(counts: Sequence[int], per_point: int) -> Shown:
    """The mean alone, rounded half up to 1/per_point: what a coarsened cell shows."""
    n = sum(counts)
    return Shown(n=n, mean=mean_units(total_of(counts), n, per_point), per_point=per_point)


@lru_cache(maxsize=16384)
def sum_range(shown: Shown) -> tuple[int, int]:
    """The smallest and largest sum of the answers that fits everything the cell shows."""
    if shown.full is not None:
        total = total_of(shown.full)
        return total, total
    if shown.n <= ENUMERATION_LIMIT and (shown.sd is not None or shown.groups is not None):
        totals = [total_of(counts) for counts in consistent(shown)]
        return min(totals), max(totals)
    return total_range(shown.n, shown.mean, shown.per_point)
