"""Counts for rate limits shared by every app server (services/rate_limits.py)."""

from django.db import models


class RateLimitHit(models.Model):
    """One request counted against a limit: which limit and for whom (a keyed hash, never the address), and when."""

    key = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["key", "at"], name="rate_limit_key_at")]
