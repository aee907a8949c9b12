"""A closed round's answers, stored so that none can be traced to a person.

While a round is open its answers are sealed ballots (models.ballots); these rows are made only
when it closes, all in one transaction (services.ballots.tally). Ratings exist only as counters:
per round, role, item, scale and value, how many gave it. Comments are rows with random ids,
written in random order, tied to a round and a theme. Neither has a column for a person, an
invitation, a token, a user, an address or a time (DESIGN.md section 2, rule 1);
tests/test_anonymity.py introspects these models to keep it so.
"""

import uuid

from django.db import models

from .choices import Role, Scale
from .survey import Item, Round


class RatingCounter(models.Model):
    """How many in one role gave each value to one question (item and scale) of one round.

    One row per question, with a count per value: count_0 for "don't know", count_1 to count_5
    for the scale. Created with the totals when the round closes, and never changed after.
    """

    VALUE_FIELDS = ("count_0", "count_1", "count_2", "count_3", "count_4", "count_5")

    # Kept by Django, not checked by the database: see models/results.py (the close's cost). Found
    # through the unique constraints below, which start with the round: no index of its own.
    round = models.ForeignKey(
        Round, on_delete=models.CASCADE, related_name="counters", db_index=False, db_constraint=False
    )
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False)
    role = models.CharField(max_length=10, choices=Role)
    scale = models.CharField(max_length=12, choices=Scale)
    # The counter's fixed place in its instrument's list of counters (see
    # services.survey.instruments.counter_slots): the same for every round of an instrument.
    slot = models.PositiveSmallIntegerField()
    count_0 = models.PositiveIntegerField(default=0)
    count_1 = models.PositiveIntegerField(default=0)
    count_2 = models.PositiveIntegerField(default=0)
    count_3 = models.PositiveIntegerField(default=0)
    count_4 = models.PositiveIntegerField(default=0)
    count_5 = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint("round", "item", "role", "scale", name="counter_unique"),
            models.UniqueConstraint("round", "slot", name="counter_slot_unique"),
        ]

    @property
    def counts(self) -> dict[int, int]:
        """value -> how many gave it (0 is "don't know")."""
        return {value: getattr(self, name) for value, name in enumerate(self.VALUE_FIELDS)}


class Comment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="comments")
    theme_key = models.CharField(max_length=40)
    text = models.TextField()
