"""Reading what a round holds in tests: per question, and in total.

A closed round's answers are its counters. An open round's are sealed ballots, which only the
master key opens; these helpers open them the way closing does (without storing anything), so a
test can check what was received while the round is still open.
"""

from collections import Counter

from django.db.models import F, Sum

from gensidig.models import Ballot, Comment, RatingCounter, RoundKey
from gensidig.services.ballots import keys, sealing

ALL_VALUES = sum((F(name) for name in RatingCounter.VALUE_FIELDS[1:]), F(RatingCounter.VALUE_FIELDS[0]))


def opened_ballots(round_) -> list[sealing.OpenedBallot]:
    """Every ballot of an open round, opened with the master key."""
    private = keys.unwrap(RoundKey.objects.get(round=round_))
    return [
        sealing.open_ballot(private_key=private, sealed=sealed, instrument=round_.instrument)
        for sealed in Ballot.objects.filter(round=round_).values_list("sealed", flat=True)
    ]


def _sealed_counts(round_) -> Counter:
    tally = Counter()
    for opened in opened_ballots(round_):
        for question, value in opened.ratings:
            tally[(*question, value)] += 1
        for question, values in opened.counts:
            for value, count in enumerate(values):
                tally[(*question, value)] += count
    return tally


def counts(round_, role, item_key, scale) -> dict[int, int]:
    """value -> how many in the role gave it to the question."""
    if RatingCounter.objects.filter(round=round_).exists():
        return RatingCounter.objects.get(round=round_, role=role, item__key=item_key, scale=scale).counts
    tally = _sealed_counts(round_)
    return {value: tally[(role, item_key, scale, value)] for value in range(6)}


def total(round_, **filters) -> int:
    """Every answer counted in the round (don't-know included), optionally narrowed by role or scale."""
    if RatingCounter.objects.filter(round=round_).exists() or not RoundKey.objects.filter(round=round_).exists():
        return RatingCounter.objects.filter(round=round_, **filters).aggregate(t=Sum(ALL_VALUES))["t"] or 0
    role, scale = filters.pop("role", None), filters.pop("scale", None)
    if filters:
        raise TypeError(f"total() of an open round takes role and scale only, not {sorted(filters)}")
    return sum(
        n
        for (r, _key, s, _value), n in _sealed_counts(round_).items()
        if (role is None or r == role) and (scale is None or s == scale)
    )


def comments(round_) -> list[tuple[str, str]]:
    """(theme, text) of every comment a round holds, open (sealed) or closed."""
    if RoundKey.objects.filter(round=round_).exists():
        return sorted(c for opened in opened_ballots(round_) for c in opened.comments)
    return sorted(Comment.objects.filter(round=round_).values_list("theme_key", "text"))
