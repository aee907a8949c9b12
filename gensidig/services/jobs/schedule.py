"""The periodic jobs: which task runs every minute and which once a day, enqueued once per period.

Every worker looks at the schedule (a ScheduledJob row per job, with the moment it is next due)
between tasks. A job that is due is enqueued by the worker that locks its row, in the same
transaction that moves `next_run` on to the next period; on PostgreSQL the others skip a locked
row (SKIP LOCKED) and, once it commits, find it no longer due; on SQLite a write transaction
takes the database's write lock when it begins, so the workers take turns and the second finds
the first's `next_run`. So however many workers run, on however many machines, each period gets
one run. A period missed while no worker ran gets one run when a worker is back, not one per
period missed.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import Enum

from django.conf import settings
from django.db import transaction
from django.tasks import Task
from django.utils import timezone

from gensidig import tasks
from gensidig.models import ScheduledJob


class Every(Enum):
    MINUTE = "minute"
    DAY = "day"  # at GENSIDIG_DAILY_JOBS_HOUR, local time


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: Task
    every: Every


PERIODIC_JOBS = (
    # Each minute: what people wait for, or what must happen at a set time.
    PeriodicJob("launch-due-campaigns", tasks.launch_due_campaigns, Every.MINUTE),
    PeriodicJob("start-due-reminders", tasks.start_due_reminders, Every.MINUTE),
    PeriodicJob("close-due", tasks.close_due, Every.MINUTE),
    PeriodicJob("send-mail", tasks.send_mail, Every.MINUTE),
    # Once a day: keeping only what may be kept.
    PeriodicJob("purge-expired-answers", tasks.purge_expired_answers, Every.DAY),
    PeriodicJob("erase-leavers", tasks.erase_leavers, Every.DAY),
    PeriodicJob("purge-audit-trail", tasks.purge_audit_trail, Every.DAY),
    PeriodicJob("clear-expired-sessions", tasks.clear_expired_sessions, Every.DAY),
)
JOBS_BY_NAME = {job.name: job for job in PERIODIC_JOBS}


def next_run(job: PeriodicJob, *, after: datetime.datetime) -> datetime.datetime:
    """The start of the job's next period after the moment given: the next whole minute, or the next daily hour."""
    if job.every is Every.MINUTE:
        return after.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
    local = timezone.localtime(after)
    at = datetime.time(hour=settings.GENSIDIG_DAILY_JOBS_HOUR)
    day = local.date() if local.time() < at else local.date() + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day, at))


def ensure_schedule(*, now: datetime.datetime | None = None) -> None:
    """Add a schedule row for every job that has none yet (a new install, or a job added by an upgrade).

    A new row is due at once, so a fresh worker does every job's first run straight away. Rows are
    only ever added here; two workers starting together add each one once (the name is the key).
    """
    now = now or timezone.now()
    known = set(ScheduledJob.objects.values_list("name", flat=True))
    missing = [ScheduledJob(name=job.name, next_run=now) for job in PERIODIC_JOBS if job.name not in known]
    if missing:
        ScheduledJob.objects.bulk_create(missing, ignore_conflicts=True)


def enqueue_due_jobs(*, now: datetime.datetime | None = None) -> list[str]:
    """Enqueue every periodic job that is due and not claimed by another worker; returns their names.

    Cheap when nothing is due (one indexed read, no lock), as it runs between every two tasks.
    """
    now = now or timezone.now()
    # Only this release's jobs: a row a later release added is run by that release's workers.
    due = ScheduledJob.objects.filter(name__in=list(JOBS_BY_NAME), next_run__lte=now)
    if not due.exists():
        return []
    enqueued = []
    with transaction.atomic():
        for row in due.select_for_update(skip_locked=True).order_by("name"):
            job = JOBS_BY_NAME[row.name]
            # Enqueued inside the transaction that claims the period: both commit, or neither does.
            job.task.enqueue()
            row.next_run = next_run(job, after=now)
            row.save(update_fields=["next_run"])
            enqueued.append(job.name)
    return enqueued
