"""The worker's tasks (Django Tasks on django-tasks-db; run by `gensidig worker`).

Each task calls services that already claim what they work on, so it is idempotent and safe to run
twice at once: an e-mail is claimed by a conditional UPDATE before it is handed to the mail server
(services.mail), a scheduled campaign, a due round or campaign, a reminder and a person to erase
are locked (SELECT ... FOR UPDATE) and looked at again before anything changes, and a clean-up
deletes what is still there. services.jobs.schedule says when each runs by itself; views enqueue
the mail tasks at once where someone is waiting (services.jobs.soon).

A task's return value is stored with its row and its summary goes to the log, so both hold counts
only, and none that tells how many have answered: never an address, a name, or a reminder count.
Higher priorities run first when several wait.
"""

from __future__ import annotations

import datetime
import logging

from django.tasks import task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from gensidig.services import audit_trail, campaigns, personal_data, retention, scheduled, signin
from gensidig.services.jobs import soon
from gensidig.services.mail import outbox, reminders, shared_report
from gensidig.services.survey import closing

logger = logging.getLogger(__name__)

# Someone is waiting on the sign-in page; opening rounds and reminders queue e-mails that the mail
# task then sends; closing is heavy; the daily clean-ups can wait for everything else.
SIGN_IN_PRIORITY = 50
OPENING_PRIORITY = 20
CLOSING_PRIORITY = 10
MAIL_PRIORITY = 0
DAILY_PRIORITY = -10

# Finished task rows are kept this long, for an operator to look at, then pruned.
KEEP_FINISHED_TASKS = datetime.timedelta(days=7)


@task(priority=SIGN_IN_PRIORITY)
def send_sign_in_links() -> dict:
    """E-mail the sign-in links asked for (enqueued by the sign-in page, and every minute)."""
    sent = signin.send_sign_in_links()
    if sent:
        logger.info("Sign-in links: %d sent.", sent)
    return {"sign_in_links": sent}


@task(priority=MAIL_PRIORITY)
def send_mail() -> dict:
    """Send everything waiting: sign-in links, invitations, reminders and shared reports' notices.

    The invitations go out through GENSIDIG_MAIL_SENDERS senders at once (threads of this task,
    each claiming its own batches), and a second worker running this task at the same time only
    shares the work: every message is still sent at most once.
    """
    links = signin.send_sign_in_links()
    invitations = outbox.send_invitations()
    reminded = reminders.send_reminders()
    notices = shared_report.send_report_notices()
    done = {
        "sign_in_links": links,
        "invitations_sent": invitations.sent,
        "invitations_failed": invitations.failed,
        "notices_sent": notices.sent,
        "notices_failed": notices.failed,
        "mail_server_unreachable": bool(
            invitations.connection_error or reminded.connection_error or notices.connection_error
        ),
    }
    # Reminders are not counted here: how many got one is how many have not answered, which the
    # campaign page itself withholds where participation is (ReminderBatch keeps it for the pages).
    # Nor is anyone named: an address would put a person in the log.
    if any(value for key, value in done.items() if key != "mail_server_unreachable"):
        logger.info(
            "Mail: %(sign_in_links)d sign-in link(s); invitations %(invitations_sent)d sent, "
            "%(invitations_failed)d failed; shared reports %(notices_sent)d sent, %(notices_failed)d failed.",
            done,
        )
    if done["mail_server_unreachable"]:
        logger.warning("The mail server could not be reached; what waits goes out at the next try.")
    return done


@task(priority=OPENING_PRIORITY)
def launch_due_campaigns() -> dict:
    """Open the scheduled campaigns whose day has come, and have their invitations sent at once."""
    opened = campaigns.launch_due_campaigns()
    if opened:
        logger.info("Opened %d scheduled campaign(s).", len(opened))
        soon(send_mail)
    return {"campaigns_opened": len(opened)}


@task(priority=OPENING_PRIORITY)
def start_due_reminders() -> dict:
    """Start the reminders that are due, and have them sent at once."""
    started = reminders.start_due_reminders()
    if started:
        logger.info("Started %d reminder batch(es).", len(started))
        soon(send_mail)
    return {"reminder_batches_started": len(started)}


@task(priority=CLOSING_PRIORITY)
def close_due() -> dict:
    """Close the rounds and campaigns past their closing time, so their reports are ready without a visit.

    One that cannot be counted (the wrong master key, a damaged ballot) stays open with its ballots
    and is logged by the service; the others close, and the next run tries it again.
    """
    failed = []
    rounds = closing.close_due_rounds(on_error=lambda what, error: failed.append(what))
    closed_campaigns = closing.close_due_campaigns(on_error=lambda what, error: failed.append(what))
    if rounds or closed_campaigns:
        logger.info(
            "Closed %d round(s) and %d campaign(s) past their closing time.", len(rounds), len(closed_campaigns)
        )
    return {"rounds_closed": len(rounds), "campaigns_closed": len(closed_campaigns), "could_not_close": len(failed)}


@task(priority=DAILY_PRIORITY)
def purge_expired_answers() -> dict:
    """Delete the answers of rounds past their organisation's retention period (`gensidig purge`)."""
    purged = retention.purge_expired()
    if purged.rounds:
        logger.info("Deleted the answers of %d round(s) past their retention period.", purged.rounds)
    return {"rounds": purged.rounds, "counters": purged.counters, "comments": purged.comments}


@task(priority=DAILY_PRIORITY)
def erase_leavers() -> dict:
    """Erase the people who left longer ago than GENSIDIG_ERASE_LEAVERS_AFTER_DAYS."""
    erased = personal_data.erase_leavers()
    if erased:
        logger.info("Erased %d person(s) who left the organisation.", erased)
    return {"people_erased": erased}


@task(priority=DAILY_PRIORITY)
def purge_audit_trail() -> dict:
    """Delete the audit trail's events older than its retention (GENSIDIG_AUDIT_RETENTION_DAYS)."""
    return {"events_deleted": audit_trail.purge_expired()}


@task(priority=DAILY_PRIORITY)
def clear_expired_sessions() -> dict:
    """Delete expired staff sessions and sign-in links, day-old chart uploads, and the worker's own finished task rows."""
    tasks, _ = DBTaskResult.objects.finished().filter(finished_at__lt=timezone.now() - KEEP_FINISHED_TASKS).delete()
    return {
        "sessions": scheduled.clear_expired_sessions(),
        "sign_in_links": scheduled.clear_expired_sign_in_links(),
        "chart_uploads": scheduled.clear_stale_chart_uploads(),
        "finished_tasks": tasks,
    }
