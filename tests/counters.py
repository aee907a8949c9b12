"""Reading counters in tests: per question, and in total."""

from django.db.models import F, Sum

from gensidig.models import RatingCounter

ALL_VALUES = sum((F(name) for name in RatingCounter.VALUE_FIELDS[1:]), F(RatingCounter.VALUE_FIELDS[0]))


def counts(round_, role, item_key, scale) -> dict[int, int]:
    """value -> how many in the role gave it to the question."""
    return RatingCounter.objects.get(round=round_, role=role, item__key=item_key, scale=scale).counts


def total(round_, **filters) -> int:
    """Every answer counted in the round (don't-know included), optionally narrowed by role, scale..."""
    return RatingCounter.objects.filter(round=round_, **filters).aggregate(t=Sum(ALL_VALUES))["t"] or 0
