"""The worker loop: django-tasks-db's worker, which also enqueues the periodic jobs that are due.

django-tasks-db's Worker claims a waiting task (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL,
an exclusive transaction on SQLite), marks it running with this worker's id and commits before it
runs it, so no two workers ever run one task. This subclass keeps its claiming, running, recording
and signal handling, and adds a look at the schedule (services.jobs.schedule) before each claim.

A stop signal (SIGTERM, SIGINT) while a task runs lets it finish and then stops; while the worker
waits for work it stops at once. A second signal stops even a running task.
"""

from __future__ import annotations

import logging
import time

from django.db import DatabaseError, close_old_connections
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
from django_tasks_db.management.commands.db_worker import Worker as DatabaseWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from gensidig.services.jobs import schedule

logger = logging.getLogger(__name__)

# While the database cannot be reached, try again after this long, and at most this long.
FIRST_RETRY_SECONDS = 1.0
LONGEST_RETRY_SECONDS = 30.0


class Worker(DatabaseWorker):
    def __init__(self, *, worker_id: str, interval: float = 1.0, once: bool = False, scheduler: bool = True):
        super().__init__(
            queue_names=[DEFAULT_TASK_QUEUE_NAME],
            interval=interval,
            batch=once,
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        self.once = once
        self.scheduler = scheduler

    def run(self) -> None:
        """Until stopped (or, with `once`, until nothing is waiting): enqueue what is due, then run one task."""
        logger.info("Worker %s started.", self.worker_id)
        if self.scheduler:
            self._with_database(schedule.ensure_schedule)
        retry = FIRST_RETRY_SECONDS
        while self.running:
            close_old_connections()  # a long-lived process must not keep a dead connection
            # From here until the task is recorded, a stop signal waits for this pass to end: a task
            # claimed must be run and recorded, never left marked running by a worker that is gone.
            self.running_task = True
            try:
                if self.scheduler:
                    schedule.enqueue_due_jobs()
                found, task_result = self._claim()
                if task_result is not None:
                    self.run_task(task_result)
            except DatabaseError as error:
                if self.once:
                    raise
                # The database is down or restarting: keep trying, as the web servers do.
                logger.warning("The database cannot be reached (%s); trying again in %.0f s.", error, retry)
                close_old_connections()
                self.running_task = False
                time.sleep(retry)
                retry = min(retry * 2, LONGEST_RETRY_SECONDS)
                continue
            finally:
                self.running_task = False
            retry = FIRST_RETRY_SECONDS
            if task_result is None:
                if self.once and found:
                    logger.info("Worker %s: nothing more is waiting.", self.worker_id)
                    return
                time.sleep(self.interval)  # a stop signal here ends the worker at once

    def _claim(self) -> tuple[bool, DBTaskResult | None]:
        """Claim the next waiting task for this worker (committed before it runs); (looked, task or None).

        `looked` is False when SQLite's database was locked by another writer: nothing can be
        said about what is waiting, and the worker looks again.
        """
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name, queue_name__in=self.queue_names)
        try:
            with exclusive_transaction(tasks.db):
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)
        except DatabaseError as error:
            if is_locked_database_exception(error):
                return False, None
            raise
        return True, task_result

    def _with_database(self, step) -> None:
        """Run a start-up step, waiting for the database if it is not there yet."""
        retry = FIRST_RETRY_SECONDS
        while True:
            try:
                step()
                return
            except DatabaseError as error:
                if self.once:
                    raise
                logger.warning("The database cannot be reached (%s); trying again in %.0f s.", error, retry)
                close_old_connections()
                time.sleep(retry)
                retry = min(retry * 2, LONGEST_RETRY_SECONDS)
