"""Scheduled work on a worker: the tasks (gensidig.tasks), the periodic schedule and the worker loop.

Everything that happens without a visitor waiting -- e-mail, scheduled openings, reminders, due
closes, the daily clean-ups -- is a Django Task on the django-tasks-db backend, run by
`gensidig worker` (services.jobs.worker). A task is a row in the database, so there is no other
service to run, and several workers on several machines share one queue: each row is claimed by
one worker (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, an exclusive transaction on SQLite).
The periodic jobs are enqueued by whichever worker claims their schedule row first
(services.jobs.schedule). Every task calls a service that already claims what it works on, so a
task that runs twice, or two at once, does each thing once.
"""

from __future__ import annotations

from django.db import transaction
from django.tasks import Task


def soon(task: Task) -> None:
    """Have a worker run `task` now rather than at its next period, once the data it needs is committed.

    The task is enqueued when the caller's transaction commits (at once outside one), not inside
    it: a worker can then never pick it up before the data it acts on is visible, a transaction
    that rolls back enqueues nothing, and a queue that cannot be written to (the database gone
    between the commit and the enqueue) never undoes what the visitor did. A nudge lost that way
    costs a minute at most: every task enqueued here is also a periodic job.
    """
    transaction.on_commit(task.enqueue, robust=True)
