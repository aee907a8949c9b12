"""`gensidig worker` as separate processes against the test database: two workers never run one job
twice, nor send one e-mail twice, nor enqueue a periodic job twice; SIGTERM lets the task at hand
finish and stops.

The workers are real processes (`python -m gensidig worker`), sharing the database with this test
as workers on several machines share PostgreSQL; the test's own tasks are in tests/worker_tasks.py.
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from gensidig import tasks
from gensidig.models import InvitationMail, MailStatus, ScheduledJob
from gensidig.services.jobs import schedule
from gensidig.services.mail.outbox import queue_invitations

from . import smtp, worker_tasks
from .factories import make_team, start_round

pytestmark = pytest.mark.django_db(transaction=True)  # the workers must see what the test commits
smtp_server = smtp.smtp_server
REPOSITORY = Path(__file__).resolve().parent.parent
JOBS = 40


def database_url() -> str:
    """The test database, for a process of its own."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "") + "@" if db["USER"] else ""
    return f"postgres://{user}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Workers:
    """Worker processes started by a test, each logging to its own file; all stopped at the end."""

    def __init__(self, tmp_path: Path, smtp_port: int):
        self.tmp_path = tmp_path
        self.notes = tmp_path / "notes"
        self.notes.touch()
        # The daily jobs' hour is far from now, so no period of theirs ends while the test runs.
        far_hour = (timezone.localtime().hour + 12) % 24
        self.env = {
            **os.environ,
            "GENSIDIG_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": database_url(),
            "GENSIDIG_BALLOT_KEY": django_settings.GENSIDIG_BALLOT_KEY,
            "GENSIDIG_DAILY_JOBS_HOUR": str(far_hour),
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EMAIL_TIMEOUT": "5",
            "GENSIDIG_TEST_NOTES": str(self.notes),
        }
        self.processes: list[tuple[subprocess.Popen, Path]] = []

    def start(self, name: str) -> subprocess.Popen:
        log = self.tmp_path / f"{name}.log"
        with log.open("w") as output:
            process = subprocess.Popen(  # noqa: S603 - this interpreter, our own command
                [sys.executable, "-m", "gensidig", "worker", "--interval", "0.1", "--worker-id", name],
                cwd=REPOSITORY,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.processes.append((process, log))
        return process

    def wait_until_started(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        for process, log in self.processes:
            while "started." not in log.read_text():
                assert process.poll() is None, f"the worker stopped: {log.read_text()}"
                assert time.monotonic() < deadline, f"the worker did not start: {log.read_text()}"
                time.sleep(0.05)

    def logs(self) -> str:
        return "\n".join(log.read_text() for _process, log in self.processes)

    def noted(self) -> list[str]:
        return self.notes.read_text().splitlines()

    def stop_all(self) -> None:
        for process, _log in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def workers(tmp_path, smtp_server):
    started = Workers(tmp_path, smtp_server.port)
    try:
        yield started
    finally:
        started.stop_all()


def wait_for(condition, *, timeout: float, what: str, workers: Workers) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s:\n{workers.logs()}"
        time.sleep(0.1)


def stopped(process: subprocess.Popen, *, within: float) -> int:
    """Send SIGTERM and wait for the process to end; its exit code."""
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=within)


def test_two_workers_run_each_job_once_send_each_email_once_and_enqueue_each_periodic_job_once(workers, smtp_server):
    # Every periodic job is due at once for both workers; the minute's jobs wait for a later
    # minute, so the daily ones show what each worker enqueued when both looked at the same time.
    now = timezone.now()
    schedule.ensure_schedule(now=now)
    minute_jobs = [job.name for job in schedule.PERIODIC_JOBS if job.every is schedule.Every.MINUTE]
    ScheduledJob.objects.filter(name__in=minute_jobs).update(next_run=now + datetime.timedelta(hours=1))
    # Invitations waiting, for the mail tasks to race over.
    rounds = [start_round(make_team(leaders=7))[0] for _ in range(2)]
    queue_invitations(rounds=rounds)
    invited = sorted(InvitationMail.objects.values_list("invitation__person__email", flat=True))
    assert len(invited) == 16

    first, second = workers.start("first"), workers.start("second")
    workers.wait_until_started()
    with transaction.atomic():  # all at once, so both workers find work waiting
        for number in range(JOBS):
            worker_tasks.note.enqueue(number)
        for _ in range(4):
            tasks.send_mail.enqueue()
    wait_for(
        lambda: not DBTaskResult.objects.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]).exists(),
        timeout=40,
        what="every task finished",
        workers=workers,
    )
    assert stopped(first, within=15) == 0 and stopped(second, within=15) == 0

    notes = [line.split() for line in workers.noted()]
    assert sorted(int(number) for number, _pid in notes) == list(range(JOBS))  # each job once, none lost
    assert {int(pid) for _number, pid in notes} == {first.pid, second.pid}  # both workers took part
    results = DBTaskResult.objects.all()
    assert {r.status for r in results} == {TaskResultStatus.SUCCESSFUL}, workers.logs()
    assert all(len(r.worker_ids) == 1 for r in results)  # each claimed by one worker, once
    assert sorted(smtp_server.recipients()) == invited  # each invitation once
    assert set(InvitationMail.objects.values_list("status", flat=True)) == {MailStatus.SENT}
    # Each daily job enqueued once, though both workers found it due; no minute job was due.
    paths = Counter(r.task_path for r in results)
    paths[tasks.send_mail.module_path] -= 4  # the test's own
    assert {job.name: paths[job.task.module_path] for job in schedule.PERIODIC_JOBS} == {
        job.name: 1 if job.every is schedule.Every.DAY else 0 for job in schedule.PERIODIC_JOBS
    }


def test_sigterm_lets_the_task_at_hand_finish_and_starts_no_other_and_an_idle_worker_stops_at_once(workers):
    schedule.ensure_schedule()
    ScheduledJob.objects.update(next_run=timezone.now() + datetime.timedelta(hours=1))
    busy = workers.start("busy")
    idle = workers.start("idle")
    workers.wait_until_started()

    began = time.monotonic()
    assert stopped(idle, within=5) == 0
    assert time.monotonic() - began < 3

    slow = worker_tasks.slow.enqueue(1.5)
    waiting = worker_tasks.note.enqueue(1)
    wait_for(lambda: workers.noted() != [], timeout=20, what="the slow task started", workers=workers)
    assert stopped(busy, within=15) == 0
    assert workers.noted() == [f"started {busy.pid}", f"finished {busy.pid}"]
    assert DBTaskResult.objects.get(pk=slow.id).status == TaskResultStatus.SUCCESSFUL  # finished and recorded
    assert DBTaskResult.objects.get(pk=waiting.id).status == TaskResultStatus.READY  # left for the next worker
    assert "shutting down gracefully" in workers.logs()
