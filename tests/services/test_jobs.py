"""Scheduled work as Django Tasks (issue 11, item 7): each periodic job once per period, the worker
runs it and its effect happens, and what a visitor waits for is enqueued at once, once committed."""

import datetime
import io
import threading
from collections import Counter

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection, transaction
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from gensidig import tasks
from gensidig.models import (
    AuditAction,
    AuditEvent,
    Campaign,
    CampaignStatus,
    InvitationMail,
    MailStatus,
    Person,
    RatingCounter,
    ReminderBatch,
    ReportNotice,
    Round,
    ScheduledJob,
    SignInLink,
    User,
)
from gensidig.models.choices import RoundStatus
from gensidig.services.campaigns import create_campaign, launch_campaign
from gensidig.services.jobs import schedule, soon
from gensidig.services.mail.outbox import queue_invitations

from .. import smtp
from ..factories import PersonFactory, closed_round, make_team, start_round

smtp_server = smtp.smtp_server
MINUTE_JOBS = sorted(job.name for job in schedule.PERIODIC_JOBS if job.every is schedule.Every.MINUTE)
DAILY_JOBS = sorted(job.name for job in schedule.PERIODIC_JOBS if job.every is schedule.Every.DAY)
ALL_JOBS = sorted(MINUTE_JOBS + DAILY_JOBS)


@pytest.fixture(autouse=True)
def _own_data_folder(settings, tmp_path):
    """The sender's note on the mail server lives in the data folder: each test has its own."""
    settings.DATA_DIR = tmp_path


def local(*args) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(*args))


def enqueued() -> Counter:
    return Counter(DBTaskResult.objects.values_list("task_path", flat=True))


def waiting() -> list[str]:
    return sorted(DBTaskResult.objects.filter(status=TaskResultStatus.READY).values_list("task_path", flat=True))


def run_worker() -> str:
    """`gensidig worker --once`: enqueue what is due, run everything waiting, and exit."""
    out, err = io.StringIO(), io.StringIO()
    call_command("worker", "--once", stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def nothing_periodic_due() -> None:
    """Every periodic job just ran: only what a test enqueues itself waits."""
    schedule.ensure_schedule()
    ScheduledJob.objects.update(next_run=timezone.now() + datetime.timedelta(hours=1))


# --- The schedule -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_periodic_job_is_enqueued_once_per_period(settings):
    settings.GENSIDIG_DAILY_JOBS_HOUR = 3
    start = local(2026, 3, 10, 10, 0, 20)
    schedule.ensure_schedule(now=start)
    schedule.ensure_schedule(now=start)  # a second worker starting adds nothing
    assert ScheduledJob.objects.count() == len(ALL_JOBS)

    assert sorted(schedule.enqueue_due_jobs(now=start)) == ALL_JOBS  # a new install runs every job at once
    assert schedule.enqueue_due_jobs(now=start) == []
    assert schedule.enqueue_due_jobs(now=local(2026, 3, 10, 10, 0, 59)) == []  # the rest of that minute
    assert sorted(schedule.enqueue_due_jobs(now=local(2026, 3, 10, 10, 1, 0))) == MINUTE_JOBS
    assert schedule.enqueue_due_jobs(now=local(2026, 3, 10, 10, 1, 59)) == []
    # The daily jobs next run at 03:00 the next morning, local time.
    assert sorted(schedule.enqueue_due_jobs(now=local(2026, 3, 11, 2, 59, 30))) == MINUTE_JOBS
    assert sorted(schedule.enqueue_due_jobs(now=local(2026, 3, 11, 3, 0, 5))) == ALL_JOBS
    assert schedule.enqueue_due_jobs(now=local(2026, 3, 11, 3, 0, 50)) == []

    paths = enqueued()
    assert {job.task.module_path: paths[job.task.module_path] for job in schedule.PERIODIC_JOBS} == {
        job.task.module_path: 4 if job.every is schedule.Every.MINUTE else 2 for job in schedule.PERIODIC_JOBS
    }
    assert ScheduledJob.objects.get(name="erase-leavers").next_run == local(2026, 3, 12, 3, 0)


@pytest.mark.django_db
def test_periods_missed_while_no_worker_ran_give_one_run_not_one_each():
    start = timezone.now()
    schedule.ensure_schedule(now=start)
    schedule.enqueue_due_jobs(now=start)
    DBTaskResult.objects.all().delete()
    three_days_later = start + datetime.timedelta(days=3)
    assert sorted(schedule.enqueue_due_jobs(now=three_days_later)) == ALL_JOBS
    assert set(enqueued().values()) == {1}


@pytest.mark.django_db(transaction=True)
def test_workers_looking_at_the_schedule_at_the_same_moment_enqueue_each_job_once():
    # Several workers, on several machines, see the same jobs due at the same moment; each job's
    # period is claimed by one of them (PostgreSQL: the row lock, SKIP LOCKED; SQLite: the write lock).
    now = timezone.now()
    schedule.ensure_schedule(now=now)
    workers = 6
    barrier = threading.Barrier(workers)
    claimed, errors = [], []

    def look():
        try:
            barrier.wait(timeout=10)
            claimed.extend(schedule.enqueue_due_jobs(now=now))
        except Exception as error:  # reported below, in the test's own thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=look) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(claimed) == ALL_JOBS
    assert enqueued() == Counter({job.task.module_path: 1 for job in schedule.PERIODIC_JOBS})


# --- The worker runs them, and their effects happen ---------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_every_due_job_once_and_each_does_its_work(smtp_server):
    now = timezone.now()
    today = timezone.localdate()
    # A campaign scheduled for today: the worker opens it and sends its invitations.
    hr_team = make_team(leaders=5)
    campaign = create_campaign(
        organisation=hr_team.organisation,
        name="Forår",
        root_team=None,
        opens_on=today + datetime.timedelta(days=2),
        closes_at=now + datetime.timedelta(days=20),
    )
    launch_campaign(campaign=campaign)
    Campaign.objects.filter(pk=campaign.pk).update(opens_on=today)
    # A round past its closing time: the worker closes it, so its report is ready without a visit.
    due, _links = start_round(make_team(leaders=5))
    Round.objects.filter(pk=due.pk).update(closes_at=now - datetime.timedelta(minutes=1))
    # A round whose reminder (two days before close) is due: the worker starts it and sends it.
    reminded_team = make_team(leaders=5)
    reminding, _links = start_round(reminded_team, days=1)
    Round.objects.filter(pk=reminding.pk).update(opened_on=today - datetime.timedelta(days=10))
    queue_invitations(rounds=[reminding])
    InvitationMail.objects.filter(invitation__round=reminding).update(status=MailStatus.SENT)
    # Answers past their organisation's retention period.
    old = closed_round(make_team(leaders=5), answering=5)
    Round.objects.filter(pk=old.pk).update(closed_on=today - datetime.timedelta(days=4 * 366))
    # Someone who left longer ago than the erasure period.
    leaver = PersonFactory(
        organisation=hr_team.organisation,
        active=False,
        left_on=today - datetime.timedelta(days=django_settings.GENSIDIG_ERASE_LEAVERS_AFTER_DAYS + 1),
    )
    # An audit event past the trail's retention, an expired session and an expired sign-in link.
    AuditEvent.objects.create(at=now - datetime.timedelta(days=3000), action=AuditAction.SIGNED_IN)
    recent_event = AuditEvent.objects.create(at=now, action=AuditAction.SIGNED_IN)
    stale, live = SessionStore(), SessionStore()
    stale["x"] = live["x"] = 1
    stale.create()
    live.create()
    Session.objects.filter(session_key=stale.session_key).update(expire_date=now - datetime.timedelta(days=1))
    chief_user = User.objects.get(email=hr_team.chief.email)
    SignInLink.objects.create(user=chief_user, token_hash="a" * 64, expires_at=now - datetime.timedelta(days=1))

    run_worker()

    assert enqueued()["gensidig.tasks.launch_due_campaigns"] == 1  # and the others likewise (the schedule's test)
    assert not DBTaskResult.objects.exclude(status=TaskResultStatus.SUCCESSFUL).exists()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.OPEN
    invited = InvitationMail.objects.filter(invitation__round__campaign=campaign)
    assert invited.count() == 6 and set(invited.values_list("status", flat=True)) == {MailStatus.SENT}
    assert Round.objects.get(pk=due.pk).status == RoundStatus.CLOSED
    (batch,) = ReminderBatch.objects.filter(round=reminding)
    assert batch.status == "done" and batch.sent == 6  # nobody in that round had answered
    assert not RatingCounter.objects.filter(round=old).exists()
    leaver.refresh_from_db()
    assert leaver.erased and leaver.email.endswith("@erased.invalid")
    assert list(AuditEvent.objects.values_list("pk", flat=True).filter(action=AuditAction.SIGNED_IN)) == [
        recent_event.pk
    ]
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
    assert not SignInLink.objects.filter(token_hash="a" * 64).exists()
    mails = len(smtp_server.received)
    assert mails == 6 + 6

    # A second run in the same period enqueues nothing periodic and sends nothing again.
    before = sum(enqueued().values())
    run_worker()
    assert sum(enqueued().values()) == before and len(smtp_server.received) == mails


# --- What someone waits for is enqueued at once -------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_asking_for_a_sign_in_link_has_a_worker_send_it_at_once_not_at_the_next_minute(client, smtp_server):
    team = make_team(leaders=1)
    nothing_periodic_due()
    client.post(reverse("gensidig:sign-in-link"), {"email": team.chief.email})
    client.post(reverse("gensidig:sign-in-link"), {"email": "nobody@nowhere.example"})
    # The same for a known and an unknown address, and nothing decided or sent while the visitor waits.
    assert waiting() == ["gensidig.tasks.send_sign_in_links"] * 2
    assert not SignInLink.objects.exists() and smtp_server.received == []
    run_worker()
    (mail,) = smtp_server.received
    assert mail.to == team.chief.email and "/login/link/" in mail.text
    assert waiting() == []


@pytest.mark.django_db(transaction=True)
def test_sharing_a_report_and_reminding_now_have_the_emails_sent_at_once(client, smtp_server):
    round_ = closed_round(make_team(leaders=6), answering=5)
    nothing_periodic_due()
    client.force_login(User.objects.get(email=round_.team.chief.email))
    client.post(reverse("gensidig:share", args=[round_.public_id]), {"share": "yes"})
    assert waiting() == ["gensidig.tasks.send_mail"]
    run_worker()
    assert len(smtp_server.received) == 6
    assert set(ReportNotice.objects.values_list("status", flat=True)) == {MailStatus.SENT}

    own, _links = start_round(round_.team)
    queue_invitations(rounds=[own])
    run_worker()  # nothing periodic is due, and nothing was asked for: the invitations wait
    assert len(smtp_server.received) == 6
    client.post(reverse("gensidig:round-remind", args=[own.public_id]))
    assert waiting() == ["gensidig.tasks.send_mail"]
    run_worker()
    # The invitations that waited, then the reminder to each (nobody has answered).
    assert len(smtp_server.received) == 6 + 7 + 7
    assert ReminderBatch.objects.get(round=own).status == "done"


@pytest.mark.django_db(transaction=True)
def test_a_task_asked_for_is_enqueued_only_when_the_transaction_commits():
    with transaction.atomic():
        soon(tasks.send_mail)
        assert not DBTaskResult.objects.exists()  # a worker cannot see it before the data it acts on
    assert waiting() == ["gensidig.tasks.send_mail"]
    with pytest.raises(RuntimeError), transaction.atomic():
        soon(tasks.send_mail)
        raise RuntimeError("rolled back")
    assert waiting() == ["gensidig.tasks.send_mail"]  # nothing for what never happened


@pytest.mark.django_db(transaction=True)
def test_the_tasks_results_hold_counts_only_and_finished_ones_are_pruned_after_a_week(smtp_server):
    team = make_team(leaders=5)
    round_, _links = start_round(team)
    queue_invitations(rounds=[round_])
    run_worker()
    for result in DBTaskResult.objects.all():
        assert all(isinstance(value, int | bool) for value in result.return_value.values()), result.return_value
        for person in Person.objects.all():
            assert person.email not in str(result.args_kwargs) + str(result.return_value)
    finished = DBTaskResult.objects.count()
    DBTaskResult.objects.update(finished_at=timezone.now() - datetime.timedelta(days=8))
    tasks.clear_expired_sessions.call()
    assert DBTaskResult.objects.count() == 0 and finished >= len(ALL_JOBS)


@pytest.mark.django_db
def test_the_daily_clean_up_deletes_org_chart_uploads_nobody_applied_after_a_day():
    """An upload holds every column of HR's payroll export; it must not wait for someone to open the import page."""
    from gensidig.models import ChartUpload
    from gensidig.services.access import add_admin

    organisation, hr = add_admin(email="hr@kommune.example", organisation_slug="kommune")
    old, _fresh = (
        ChartUpload.objects.create(organisation=organisation, uploaded_by=hr, filename=name, data=b"email;name\n")
        for name in ("old.csv", "fresh.csv")
    )
    ChartUpload.objects.filter(pk=old.pk).update(uploaded_at=timezone.now() - datetime.timedelta(days=1, minutes=1))
    tasks.clear_expired_sessions.call()
    assert list(ChartUpload.objects.values_list("filename", flat=True)) == ["fresh.csv"]
