"""When each periodic job of the worker is next due (services.jobs.schedule)."""

from django.db import models
from django.utils import timezone


class ScheduledJob(models.Model):
    """One periodic job and the moment it is next due.

    The row is what several workers compete for: the one that locks it enqueues the job and moves
    `next_run` on to the next period in the same transaction, so a period gets one run, however
    many workers on however many machines look at the same moment.
    """

    name = models.CharField(max_length=64, primary_key=True)
    next_run = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.name} (next {timezone.localtime(self.next_run):%Y-%m-%d %H:%M})"
