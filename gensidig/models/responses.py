"""Answers, stored so that none can be traced to a person.

Ratings exist only as counters: per round, role, item, scale and value, how many gave it.
Comments are rows with random ids tied to a round and a theme. Neither has a column for a
person, an invitation, a token, a user, an address or a time (DESIGN.md section 2, rule 1);
tests/test_anonymity_schema.py introspects these models to keep it so.
"""

import uuid

from django.db import models

from .choices import Role, Scale
from .survey import Item, Round


class RatingCounter(models.Model):
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="counters")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=10, choices=Role)
    scale = models.CharField(max_length=12, choices=Scale)
    value = models.PositiveSmallIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint("round", "item", "role", "scale", "value", name="counter_unique"),
        ]


class Comment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="comments")
    theme_key = models.CharField(max_length=40)
    text = models.TextField()
