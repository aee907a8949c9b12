"""How much doubt a hidden figure must keep: the protection levels, in one place.

docs/anonymity.md ("Protection levels") says why these numbers; every audit reads them from here.

* A leader's answer is protected when a reader cannot narrow it to fewer than three neighbouring
  scale values: the interval it can lie in is at least POINTS_IN_DOUBT points wide. "2, 3 or 4"
  still says nothing about whether the leader is content; "4 or 5" would.
* A participation count (how many of a group answered) is protected when at least PEOPLE_IN_DOUBT
  of its people could have answered and at least as many could have stayed silent. Then nobody's
  participation follows, and one colleague's word ("I did not answer") does not settle anyone
  else's either.
"""

from __future__ import annotations

SCALE_LOW, SCALE_HIGH = 1, 5
POINTS_IN_DOUBT = 2
PEOPLE_IN_DOUBT = 2


def count_protected(size: int, lo: float, hi: float) -> bool:
    """Whether a hidden count of `size` people, known to lie in [lo, hi], keeps everyone in doubt:
    it could be at most size - 2 (two or more did not answer) and at least 2 (two or more did),
    as far as the group is large enough for either."""
    return lo <= max(0, size - PEOPLE_IN_DOUBT) and hi >= min(size, PEOPLE_IN_DOUBT)


def person_range(lo: float, hi: float) -> tuple[float, float]:
    """A single answer known to lie in [lo, hi], within the scale."""
    return max(SCALE_LOW, lo), min(SCALE_HIGH, hi)


def answer_protected(lo: float, hi: float) -> bool:
    """Whether a single answer known to lie in [lo, hi] keeps POINTS_IN_DOUBT points of doubt."""
    low, high = person_range(lo, hi)
    return high - low >= POINTS_IN_DOUBT


def ratings_protected(size: int, lo: float, hi: float) -> bool:
    """Whether a hidden sum of `size` answers, known to lie in [lo, hi], protects each of them.

    Each answer keeps POINTS_IN_DOUBT points of doubt for a reader who knows nothing else of the
    group, and the sum itself does too, so that someone who knows all the other answers (a leader
    of the same small team, say) still cannot narrow the last one further.
    """
    if size == 0:
        return True
    others = size - 1
    single = answer_protected(lo - SCALE_HIGH * others, hi - SCALE_LOW * others)
    return single and hi - lo >= POINTS_IN_DOUBT
