"""Earlier rounds of nearly the same people: figures that must not be subtracted (DESIGN.md 2.6).

A team of nine answers; a year later one has left and the other eight answer again. If the eight
answered as before -- the worst case, and a reader cannot rule it out -- the earlier figures less
the new ones are the leaver's answers. The same holds for a joiner, for several people, and for a
branch whose teams changed by a few people.

So whenever a cell (a team's own answers, or a branch's) is published next to an earlier cell
whose figures are still shown and whose invited people differ from it by fewer than k, the later
cell is checked under that worst case: from everything both cells show, at their rounding, every
leaver's and every joiner's answer must keep levels.POINTS_IN_DOUBT points of doubt. Where it would
not, the later cell shows less -- its mean alone, then to the nearest half point, then to the
nearest whole point -- and, if nothing is enough, nothing. The page says so. Trends are the
difference of what both rounds show, so they are never more exact than this.

The reader is assumed to know who changed (the org chart says), and how many of them answered
the question is worked out from the two n's; when several splits fit, each must protect.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from gensidig.services.results.distributions import HALVES, TENTHS, WHOLES, Shown, coarse_from_counts, sum_range
from gensidig.services.results.levels import SCALE_HIGH, SCALE_LOW, answer_protected

# What a later cell may fall back to, least coarse first.
COARSER = (TENTHS, HALVES, WHOLES)


@dataclass(frozen=True)
class Change:
    """How two cells' invited people differ."""

    left: int  # in the earlier cell, not in the later one
    joined: int  # in the later cell, not in the earlier one

    @property
    def people(self) -> int:
        return self.left + self.joined


def change_between(earlier: Iterable, later: Iterable) -> Change:
    """Who left and who joined between two sets of invited people."""
    earlier, later = set(earlier), set(later)
    return Change(left=len(earlier - later), joined=len(later - earlier))


def comparable(change: Change, k: int) -> bool:
    """Whether two cells could be subtracted to single out the people who changed: 0 < changes < k."""
    return 0 < change.people < k


@lru_cache(maxsize=16384)
def subtraction_protects(earlier: Shown, later: Shown, change: Change) -> bool:
    """Whether each person who changed keeps their doubt if everyone else answered as before.

    earlier - later = (the leavers' answers) - (the joiners' answers), for the numbers of them
    who answered that the two n's allow; each such split is checked on its own.
    """
    earlier_lo, earlier_hi = sum_range(earlier)
    later_lo, later_hi = sum_range(later)
    difference = (earlier_lo - later_hi, earlier_hi - later_lo)
    fewer = earlier.n - later.n  # leavers who answered, less joiners who answered
    for leavers in range(change.left + 1):
        joiners = leavers - fewer
        if not 0 <= joiners <= change.joined or leavers + joiners == 0:
            continue
        lo = max(difference[0], SCALE_LOW * leavers - SCALE_HIGH * joiners)
        hi = min(difference[1], SCALE_HIGH * leavers - SCALE_LOW * joiners)
        if lo > hi:
            continue  # this split does not fit what is shown
        if leavers and not answer_protected(
            lo + SCALE_LOW * joiners - SCALE_HIGH * (leavers - 1), hi + SCALE_HIGH * joiners - SCALE_LOW * (leavers - 1)
        ):
            return False
        if joiners and not answer_protected(
            SCALE_LOW * leavers - hi - SCALE_HIGH * (joiners - 1), SCALE_HIGH * leavers - lo - SCALE_LOW * (joiners - 1)
        ):
            return False
    return True


def safe_publication(counts: Sequence[int], published: Shown, earlier: Sequence[tuple[Shown, Change]]) -> Shown | None:
    """What the later cell may show next to every earlier cell it could be subtracted from.

    `published` is what it would show on its own; `counts` (of 1..5) make the coarser means.
    None means nothing can be shown.
    """
    if not earlier:
        return published
    options = [published] + [coarse_from_counts(counts, per_point) for per_point in COARSER]
    for option in options:
        if all(subtraction_protects(before, option, change) for before, change in earlier):
            return option
    return None
