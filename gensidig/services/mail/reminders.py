"""Reminders: to whoever has not answered, each with a new link, and nobody ever recorded as reminded.

A reminder batch keeps counts only. When a sender takes a batch, it makes a new link for every
invitation of the round -- answered or not, in one transaction -- and e-mails those of the
people who have not answered, from memory. So nothing written tells who had not answered when
the reminder went out: not a list, not a mark on an invitation, not a row version left behind
(DESIGN.md 2.1 and 2.5). The links of answered invitations are never sent and never work.

At most once, never twice: a batch is marked as being sent, and that committed, before its first
message goes out. A sender that stops half-way (a crash, or a mail server that goes away) leaves
the rest of that batch unsent, because nobody knows who had it already; the batch is counted as
interrupted, and the next reminder reaches everyone who still has not answered.
"""

from __future__ import annotations

import contextlib
import datetime

from django.db import transaction
from django.utils import timezone

from gensidig.models import AnswerToken, Invitation, MailStatus, ReminderBatch, ReminderStatus, Round
from gensidig.models.choices import RoundStatus
from gensidig.services.mail.message import Letters
from gensidig.services.mail.outbox import Progress, SendReport, tell_progress
from gensidig.services.mail.server import Result, Stop, deliver, mail_server
from gensidig.services.survey.tokens import new_token


def reminder_schedule(round_: Round) -> list[tuple[int, datetime.datetime]]:
    """(number, moment) of each reminder of a round, earliest first, from the organisation's days before close.

    A reminder that would fall on or before the day the round opened is left out: people who
    were just invited are not reminded at once.
    """
    days = set()
    for value in round_.team.organisation.reminder_days or []:
        with contextlib.suppress(TypeError, ValueError):
            if int(value) > 0:
                days.add(int(value))
    schedule = []
    for number, before in enumerate(sorted(days, reverse=True), start=1):
        moment = round_.closes_at - datetime.timedelta(days=before)
        if timezone.localdate(moment) > round_.opened_on:
            schedule.append((number, moment))
    return schedule


def due_reminder(round_: Round, now: datetime.datetime) -> int | None:
    """The number of the latest reminder due now, if any (an earlier one never sent is skipped)."""
    if not round_.accepts_answers(now):
        return None
    due = [number for number, moment in reminder_schedule(round_) if now >= moment]
    return max(due, default=None)


def start_due_reminders(*, now: datetime.datetime | None = None) -> list[ReminderBatch]:
    """Start the reminder each open round is due for; returns the batches started.

    If a later reminder is due while an earlier one was never sent, only the later one goes out.
    """
    now = now or timezone.now()
    started = []
    rounds = (
        Round.objects.filter(status=RoundStatus.OPEN, closes_at__gt=now, invitations__mail__status=MailStatus.SENT)
        .distinct()
        .select_related("team__organisation")
        .order_by("pk")
    )
    for round_ in rounds:
        number = due_reminder(round_, now)
        if number is None or round_.reminder_batches.filter(number__gte=number, manual=False).exists():
            continue
        with transaction.atomic():
            # Two senders starting the same reminder take turns here; the second finds the first's batch.
            Round.objects.select_for_update().filter(pk=round_.pk).first()
            if round_.reminder_batches.filter(number__gte=number, manual=False).exists():
                continue
            round_.reminder_batches.filter(number__lt=number, manual=False, status=ReminderStatus.PENDING).update(
                status=ReminderStatus.DONE
            )
            started.append(ReminderBatch.objects.create(round=round_, number=number))
    return started


def send_reminders(*, progress: Progress | None = None) -> SendReport:
    """Send every waiting reminder batch, at most once each; returns counts only."""
    report = SendReport()
    report.reminders_interrupted = ReminderBatch.objects.filter(status=ReminderStatus.SENDING).count()
    batch_ids = list(
        ReminderBatch.objects.filter(status=ReminderStatus.PENDING).order_by("pk").values_list("pk", flat=True)
    )
    if not batch_ids:
        tell_progress(progress, 0, 0)
        return report
    total = Invitation.objects.filter(
        round__reminder_batches__in=batch_ids, used=False, person__isnull=False, mail__status=MailStatus.SENT
    ).count()
    done = 0
    tell_progress(progress, 0, total)
    letters = Letters(reminder=True)  # each kind of reminder rendered once for the whole run
    try:
        with mail_server() as connection:
            for batch_id in batch_ids:
                batch = _claim(batch_id)
                if batch is None:
                    continue
                for invitation, token in _new_links(batch):
                    if not Invitation.objects.filter(pk=invitation.pk, used=False).exists():
                        continue  # answered since the batch was taken
                    message = letters.message(
                        round_=batch.round, person=invitation.person, role=invitation.role, token=token
                    )
                    outcome = deliver(connection, message)
                    if outcome.result is Result.SENT:
                        batch.sent += 1
                    elif outcome.result is Result.FAILED:
                        batch.failed += 1
                    else:
                        _finish(batch, interrupted=True)
                        report.sent += batch.sent
                        report.failed += batch.failed
                        report.reminders_interrupted += 1
                        raise Stop(outcome.error)
                    done += 1
                    tell_progress(progress, done, total)
                _finish(batch, interrupted=False)
                report.sent += batch.sent
                report.failed += batch.failed
    except Stop as stop:
        report.connection_error = stop.reason
    return report


def _claim(batch_id: int) -> ReminderBatch | None:
    """Take a waiting batch for this sender (committed before anything is sent); None if another took it."""
    claimed = ReminderBatch.objects.filter(pk=batch_id, status=ReminderStatus.PENDING).update(
        status=ReminderStatus.SENDING
    )
    if not claimed:
        return None
    batch = ReminderBatch.objects.select_related("round__team__organisation").get(pk=batch_id)
    if not batch.round.accepts_answers():
        _finish(batch, interrupted=False)
        return None
    return batch


def _new_links(batch: ReminderBatch) -> list[tuple[Invitation, str]]:
    """A new link for every invitation of the round, in one transaction; returns those to remind.

    Those are the people who have not answered and whose invitation e-mail was delivered: the
    links of everyone else are made too, so that the rows written are the same whoever answered.
    """
    with transaction.atomic():
        invitations = list(
            batch.round.invitations.filter(person__isnull=False).select_related("person", "mail").order_by("pk")
        )
        tokens = [new_token() for _ in invitations]
        AnswerToken.objects.bulk_create(
            (AnswerToken(invitation=i, token_hash=t.token_hash) for i, t in zip(invitations, tokens, strict=True)),
            batch_size=2000,
        )
    return [
        (invitation, token.token)
        for invitation, token in zip(invitations, tokens, strict=True)
        if not invitation.used and _was_delivered(invitation)
    ]


def _was_delivered(invitation: Invitation) -> bool:
    try:
        return invitation.mail.status == MailStatus.SENT
    except Invitation.mail.RelatedObjectDoesNotExist:
        return False


def _finish(batch: ReminderBatch, *, interrupted: bool) -> None:
    batch.status = ReminderStatus.DONE
    batch.interrupted = interrupted
    batch.save(update_fields=["status", "sent", "failed", "interrupted"])
