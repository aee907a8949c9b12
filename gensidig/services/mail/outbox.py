"""Invitations and reminders by e-mail: each person their own link, at most once, resumable.

Tokens are stored only as hashes, so a link can be put into an e-mail only at the moment it is
made: every invitation and every reminder carries a new token, and the link in earlier e-mails
stops working (DESIGN.md 2.7).

At most once, never twice. An invitation is sent in four steps:

1. a new token is made and the message rendered with it, outside any transaction;
2. one transaction claims the outbox row (PENDING -> SENDING, a conditional UPDATE, so two
   senders never claim the same row) and stores the new token's hash, and commits;
3. the message is handed to the mail server, over one connection reused for the whole run;
4. the row is marked SENT, or FAILED with a short reason.

A crash between 2 and 4 leaves the row SENDING. A later run never sends it again by itself: it is
reported as interrupted (it may or may not have arrived) until an admin re-queues it. A message
the server certainly did not take changes nothing: the previous token is put back.

Reminders go to whoever has not answered, and nobody is shown who that is (DESIGN.md 2.5). A
reminder batch holds the invitation ids still waiting only while it is being sent; each id is
taken off under a row lock and committed before its message goes out, and a finished batch keeps
nothing but its counts. No outbox row records who was reminded.
"""

from __future__ import annotations

import contextlib
import datetime
import smtplib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum

from django.core.mail import EmailMultiAlternatives, mailers
from django.db import transaction
from django.db.models import Count
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gensidig.models import Campaign, Invitation, InvitationMail, MailStatus, Person, ReminderBatch, Round
from gensidig.models.choices import Role, RoundStatus
from gensidig.services.results import comments_threshold
from gensidig.services.survey.links import answer_url
from gensidig.services.survey.tokens import hash_token, new_token

Progress = Callable[[int, int], None]

# Headers every message carries: it is machine-made (RFC 3834), so auto-responders and
# Exchange's out-of-office replies should stay quiet.
AUTOMATIC_HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "OOF, AutoReply"}
CHUNK = 200
ERROR_LENGTH = InvitationMail._meta.get_field("error").max_length
# The server's "service not available, closing connection": it took nothing, so nothing is lost
# by trying again later.
SERVICE_NOT_AVAILABLE = 421


# --- The message ------------------------------------------------------------------------


def build_message(*, round_: Round, person: Person, role: str, token: str, reminder: bool = False):
    """One person's invitation (or reminder) in their language: plain text with an HTML alternative."""
    kind = "reminder" if reminder else "invitation"
    with translation.override(round_.team.organisation.language_for(person.language)):
        context = {
            "round": round_,
            "team": round_.team,
            "organisation": round_.team.organisation,
            "person": person,
            "url": answer_url(token),
            "is_leader": role == Role.LEADER,
            "k": round_.anonymity_threshold,
            "comments_k": comments_threshold(round_.anonymity_threshold),
        }
        message = EmailMultiAlternatives(
            subject=" ".join(render_to_string(f"gensidig/emails/{kind}_subject.txt", context).split()),
            body=render_to_string(f"gensidig/emails/{kind}.txt", context),
            to=[person.email],
            headers=dict(AUTOMATIC_HEADERS),
        )
        message.attach_alternative(render_to_string(f"gensidig/emails/{kind}.html", context), "text/html")
    return message


# --- Reports ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailAddress:
    """An invitation e-mail that needs the admin's attention. Never used for reminders."""

    invitation_id: int
    email: str
    role: str
    team: str
    error: str = ""


@dataclass
class SendReport:
    """What one run did. Reminders are counted only: who got one, or failed to, is never listed."""

    sent: int = 0
    failed: int = 0
    failures: list[MailAddress] = field(default_factory=list)
    # Interrupted earlier (a crash, or a lost connection): may or may not have been delivered.
    interrupted: list[MailAddress] = field(default_factory=list)
    reminders_interrupted: int = 0
    # Still to be sent after this run (a limit, or a server that could not be reached).
    remaining: int = 0
    # Why the run stopped early, if the mail server could not be reached or went away.
    connection_error: str = ""

    @property
    def server_unreachable(self) -> bool:
        return bool(self.connection_error)


@dataclass(frozen=True)
class ReminderCount:
    round_id: int
    number: int
    sent: int
    failed: int
    waiting: int
    done: bool


@dataclass(frozen=True)
class MailStatusReport:
    """The state of the invitation e-mails of some rounds, and the counts of their reminders."""

    counts: dict[str, int]
    failed: list[MailAddress]
    interrupted: list[MailAddress]
    reminders: list[ReminderCount]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def finished(self) -> int:
        """Messages the outbox is done with, for a progress bar: sent, failed or interrupted."""
        return self.total - self.counts[MailStatus.PENDING]


# --- Queueing -------------------------------------------------------------------------------


def queue_invitations(*, rounds: Iterable[Round]) -> int:
    """Put an invitation e-mail in the outbox for every invitation of the rounds; returns how many were new.

    Idempotent: invitations that already have an outbox row keep it, whatever its status.
    """
    new = [
        InvitationMail(invitation_id=pk)
        for pk in Invitation.objects.filter(round__in=_ids(rounds), person__isnull=False, mail__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    ]
    InvitationMail.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
    return len(new)


def resend_interrupted(*, rounds: Iterable[Round]) -> int:
    """Queue again the invitation e-mails interrupted while being sent; returns how many.

    They may or may not have arrived, so the admin decides. Sending one makes a fresh token, so
    the link in a copy that did arrive stops working. Run it only when no sender is running: a
    message being sent at this very moment looks the same as an interrupted one.
    """
    return InvitationMail.objects.filter(invitation__round__in=_ids(rounds), status=MailStatus.SENDING).update(
        status=MailStatus.PENDING, error=""
    )


def resend_failed(*, rounds: Iterable[Round], invitation_ids: Iterable[int] | None = None) -> int:
    """Queue again invitation e-mails that could not be delivered (all, or those of the given invitations)."""
    failed = InvitationMail.objects.filter(invitation__round__in=_ids(rounds), status=MailStatus.FAILED)
    if invitation_ids is not None:
        failed = failed.filter(invitation_id__in=list(invitation_ids))
    return failed.update(status=MailStatus.PENDING, error="")


def mail_status(*, rounds: Iterable[Round]) -> MailStatusReport:
    """Counts per status, the addresses that failed or were interrupted, and reminder counts only."""
    round_ids = _ids(rounds)
    mails = InvitationMail.objects.filter(invitation__round__in=round_ids)
    counts = dict.fromkeys(MailStatus.values, 0)
    for status, in_status in _count_by(mails, "status"):
        counts[status] = in_status
    reminders = [
        ReminderCount(
            round_id=batch.round_id,
            number=batch.number,
            sent=batch.sent,
            failed=batch.failed,
            waiting=len(batch.waiting),
            done=batch.done,
        )
        for batch in ReminderBatch.objects.filter(round__in=round_ids).order_by("round_id", "number")
    ]
    return MailStatusReport(
        counts=counts,
        failed=_addresses(mails.filter(status=MailStatus.FAILED)),
        interrupted=_addresses(mails.filter(status=MailStatus.SENDING)),
        reminders=reminders,
    )


# --- Sending invitations ------------------------------------------------------------------------


def send_invitations(
    *,
    campaign: Campaign | None = None,
    rounds: Iterable[Round] | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
) -> SendReport:
    """Send the waiting invitation e-mails (of a campaign, some rounds, or all), at most once each.

    Only rounds that still accept answers are sent to. A message the server refuses is marked
    FAILED and the run goes on; if the server cannot be reached or goes away, the run stops and
    the rest stays waiting for the next one. Rows found interrupted are reported, never re-sent.
    """
    scope = InvitationMail.objects.all()
    if campaign is not None:
        scope = scope.filter(invitation__round__campaign=campaign)
    if rounds is not None:
        scope = scope.filter(invitation__round__in=_ids(rounds))
    pending = scope.filter(
        status=MailStatus.PENDING,
        invitation__round__status=RoundStatus.OPEN,
        invitation__round__closes_at__gt=timezone.now(),
    ).order_by("invitation__round_id", "pk")
    ids = list(
        pending.values_list("pk", flat=True)[:limit] if limit is not None else pending.values_list("pk", flat=True)
    )
    report = SendReport()
    total, done = len(ids), 0
    _tell(progress, 0, total)
    if ids:
        try:
            with _mail_server() as connection:
                for chunk in _chunks(ids):
                    rows = (
                        InvitationMail.objects.filter(pk__in=chunk, status=MailStatus.PENDING)
                        .select_related("invitation__person", "invitation__round__team__organisation")
                        .order_by("pk")
                    )
                    for mail in rows:
                        outcome = _send_invitation(connection, mail)
                        if outcome.result is Result.SENT:
                            report.sent += 1
                        elif outcome.result is Result.FAILED:
                            report.failed += 1
                        elif outcome.result in (Result.NOT_TAKEN, Result.LOST):
                            raise _Stop(outcome.error)
                        done += 1
                        _tell(progress, done, total)
        except _Stop as stop:
            report.connection_error = stop.reason
    report.failures = _addresses(InvitationMail.objects.filter(pk__in=ids, status=MailStatus.FAILED))
    report.interrupted = _addresses(scope.filter(status=MailStatus.SENDING))
    report.remaining = pending.count()
    return report


class Result(Enum):
    SENT = "sent"
    FAILED = "failed"  # refused for this message; the next may go through
    NOT_TAKEN = "not taken"  # the server took nothing and is going away: stop, try later
    LOST = "lost"  # the connection went away mid-message: it may or may not have arrived
    SKIPPED = "skipped"  # another sender claimed it first


@dataclass(frozen=True)
class Outcome:
    result: Result
    error: str = ""


class _Stop(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _send_invitation(connection, mail: InvitationMail) -> Outcome:
    invitation = mail.invitation
    if invitation.person is None:
        InvitationMail.objects.filter(pk=mail.pk, status=MailStatus.PENDING).update(
            status=MailStatus.FAILED, error=_("The person is no longer in the organisation's chart.")
        )
        return Outcome(Result.FAILED)
    token = new_token()
    message = build_message(round_=invitation.round, person=invitation.person, role=invitation.role, token=token.token)
    with transaction.atomic():
        claimed = InvitationMail.objects.filter(pk=mail.pk, status=MailStatus.PENDING).update(
            status=MailStatus.SENDING, error=""
        )
        if not claimed:
            return Outcome(Result.SKIPPED)
        previous_hash = Invitation.objects.filter(pk=invitation.pk).values_list("token_hash", flat=True).get()
        Invitation.objects.filter(pk=invitation.pk).update(token_hash=token.token_hash)
    outcome = _deliver(connection, message)
    if outcome.result is Result.SENT:
        InvitationMail.objects.filter(pk=mail.pk, status=MailStatus.SENDING).update(status=MailStatus.SENT)
    elif outcome.result in (Result.FAILED, Result.NOT_TAKEN):
        # Not delivered: the link sent before (if any) keeps working.
        with transaction.atomic():
            Invitation.objects.filter(pk=invitation.pk, token_hash=token.token_hash).update(token_hash=previous_hash)
            if outcome.result is Result.FAILED:
                update = {"status": MailStatus.FAILED, "error": outcome.error[:ERROR_LENGTH]}
            else:
                update = {"status": MailStatus.PENDING}
            InvitationMail.objects.filter(pk=mail.pk, status=MailStatus.SENDING).update(**update)
    # LOST: left SENDING on purpose -- it may have arrived, so it is reported, not re-sent.
    return outcome


# --- Reminders ------------------------------------------------------------------------------------


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

    A batch waits for everyone invited by e-mail (their invitation e-mail was SENT) who has not
    answered. If a later reminder is due while an earlier one is unfinished or was never started,
    only the later one goes out.
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
        if number is None or round_.reminder_batches.filter(number__gte=number).exists():
            continue
        with transaction.atomic():
            # Two senders starting the same reminder take turns here; the second finds the first's batch.
            Round.objects.select_for_update().filter(pk=round_.pk).first()
            if round_.reminder_batches.filter(number__gte=number).exists():
                continue
            round_.reminder_batches.filter(number__lt=number, done=False).update(done=True, waiting=[])
            waiting = list(
                round_.invitations.filter(used=False, person__isnull=False, mail__status=MailStatus.SENT)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            batch = ReminderBatch.objects.create(round=round_, number=number, waiting=waiting, done=not waiting)
        started.append(batch)
    return started


def send_reminders(*, progress: Progress | None = None) -> SendReport:
    """Send the reminders of every unfinished batch, at most once each; returns counts only.

    Each one is taken off its batch and committed before it is sent. Someone who answered in the
    meantime is skipped silently. An id still marked as being sent when a run starts belongs to a
    run that died: it is dropped and counted as interrupted, never sent again.
    """
    report = SendReport()
    batch_ids = list(ReminderBatch.objects.filter(done=False).order_by("pk").values_list("pk", flat=True))
    total = sum(
        sum(1 for pk in waiting if pk > 0)
        for waiting in ReminderBatch.objects.filter(pk__in=batch_ids).values_list("waiting", flat=True)
    )
    done = 0
    _tell(progress, 0, total)
    if not batch_ids:
        return report
    for batch_id in batch_ids:
        report.reminders_interrupted += _drop_interrupted_reminders(batch_id)
    if total:
        try:
            with _mail_server() as connection:
                for batch_id in batch_ids:
                    while (taken := _take_reminder(batch_id)) is not None:
                        invitation, token, previous_hash = taken
                        if invitation is None:  # answered meanwhile, or gone
                            done += 1
                            _tell(progress, done, total)
                            continue
                        outcome = _deliver(
                            connection,
                            build_message(
                                round_=invitation.round,
                                person=invitation.person,
                                role=invitation.role,
                                token=token,
                                reminder=True,
                            ),
                        )
                        _settle_reminder(batch_id, invitation.pk, token, previous_hash, outcome)
                        if outcome.result is Result.SENT:
                            report.sent += 1
                        elif outcome.result is Result.FAILED:
                            report.failed += 1
                        else:
                            raise _Stop(outcome.error)
                        done += 1
                        _tell(progress, done, total)
        except _Stop as stop:
            report.connection_error = stop.reason
    report.remaining = sum(
        sum(1 for pk in waiting if pk > 0)
        for waiting in ReminderBatch.objects.filter(pk__in=batch_ids, done=False).values_list("waiting", flat=True)
    )
    return report


# In a batch's waiting list a positive id is still to be reminded and a negative one is being
# reminded right now: taken off, committed, not yet known to be sent.


def _drop_interrupted_reminders(batch_id: int) -> int:
    with transaction.atomic():
        batch = ReminderBatch.objects.select_for_update().get(pk=batch_id)
        in_flight = [pk for pk in batch.waiting if pk < 0]
        if in_flight:
            batch.waiting = [pk for pk in batch.waiting if pk > 0]
            _finish_if_empty(batch)
            batch.save(update_fields=["waiting", "done"])
    return len(in_flight)


def _take_reminder(batch_id: int) -> tuple[Invitation | None, str, str] | None:
    """Take the next invitation off a batch and give it a new token; None when the batch is finished.

    Returns (None, "", "") for someone who no longer needs a reminder, so progress can count them.
    """
    with transaction.atomic():
        batch = ReminderBatch.objects.select_for_update().select_related("round").get(pk=batch_id)
        if batch.done:
            return None
        if not batch.round.accepts_answers():
            batch.waiting, batch.done = [], True
            batch.save(update_fields=["waiting", "done"])
            return None
        queue = [pk for pk in batch.waiting if pk > 0]
        if not queue:
            _finish_if_empty(batch)
            batch.save(update_fields=["done"])
            return None
        invitation_id = queue[0]
        batch.waiting = [pk for pk in batch.waiting if pk != invitation_id]
        invitation = (
            Invitation.objects.filter(pk=invitation_id, used=False, person__isnull=False)
            .select_related("person", "round__team__organisation")
            .first()
        )
        token = new_token()
        # The conditional UPDATE is the check: a submission that got there first has set `used`.
        if invitation is None or not Invitation.objects.filter(pk=invitation_id, used=False).update(
            token_hash=token.token_hash
        ):
            _finish_if_empty(batch)
            batch.save(update_fields=["waiting", "done"])
            return None, "", ""
        batch.waiting.append(-invitation_id)
        batch.save(update_fields=["waiting"])
    return invitation, token.token, invitation.token_hash


def _settle_reminder(batch_id: int, invitation_id: int, token: str, previous_hash: str, outcome: Outcome) -> None:
    if outcome.result is Result.LOST:
        return  # stays marked as being sent: the next run counts it as interrupted
    with transaction.atomic():
        batch = ReminderBatch.objects.select_for_update().get(pk=batch_id)
        if outcome.result in (Result.FAILED, Result.NOT_TAKEN):
            # Not delivered: the link they already have keeps working.
            Invitation.objects.filter(pk=invitation_id, token_hash=hash_token(token)).update(token_hash=previous_hash)
        batch.waiting = [pk for pk in batch.waiting if pk != -invitation_id]
        if outcome.result is Result.NOT_TAKEN:
            batch.waiting.insert(0, invitation_id)  # the server took nothing: try again next run
        elif outcome.result is Result.SENT:
            batch.sent += 1
        else:
            batch.failed += 1
        _finish_if_empty(batch)
        batch.save(update_fields=["waiting", "sent", "failed", "done"])


def _finish_if_empty(batch: ReminderBatch) -> None:
    if not batch.waiting:
        batch.waiting, batch.done = [], True


# --- The mail server ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _mail_server() -> Iterator:
    """One connection for the whole run; a server that cannot be reached stops the run before anything is claimed."""
    connection = mailers.default
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as error:
        raise _Stop(_("The mail server could not be reached: %(error)s") % {"error": _describe(error)}) from error
    try:
        yield connection
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            connection.close()


def _deliver(connection, message: EmailMultiAlternatives) -> Outcome:
    """Hand one message to the server and say what became of it. Other exceptions are bugs and propagate."""
    try:
        connection.send_messages([message])
    except smtplib.SMTPRecipientsRefused as error:
        replies = list(error.recipients.values())
        if any(code == SERVICE_NOT_AVAILABLE for code, _reply in replies):
            return Outcome(Result.NOT_TAKEN, _("The mail server is not taking messages now."))
        reply = "; ".join(_reply_text(code, text) for code, text in replies)
        return Outcome(Result.FAILED, _("The mail server refused the address: %(reply)s") % {"reply": reply})
    except smtplib.SMTPResponseException as error:  # SMTPSenderRefused, SMTPDataError and others with a reply
        if error.smtp_code == SERVICE_NOT_AVAILABLE:
            return Outcome(Result.NOT_TAKEN, _("The mail server is not taking messages now."))
        reply = _reply_text(error.smtp_code, error.smtp_error)
        return Outcome(Result.FAILED, _("The mail server refused the message: %(reply)s") % {"reply": reply})
    except smtplib.SMTPServerDisconnected as error:
        return Outcome(Result.LOST, _("The connection to the mail server was lost: %(error)s") % {"error": error})
    except smtplib.SMTPException as error:
        return Outcome(Result.FAILED, _describe(error))
    except ValueError as error:  # Django refuses an address it cannot put on the envelope
        return Outcome(Result.FAILED, _("Not a usable e-mail address: %(error)s") % {"error": error})
    except OSError as error:
        return Outcome(Result.LOST, _("The connection to the mail server was lost: %(error)s") % {"error": error})
    return Outcome(Result.SENT)


def _reply_text(code, text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(f"{code} {text}".split())


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return _reply_text(error.smtp_code, error.smtp_error)
    return " ".join(str(error).split()) or type(error).__name__


# --- Small helpers ---------------------------------------------------------------------------------


def _ids(rounds: Iterable[Round]):
    """Round ids for a filter, from a queryset (kept lazy) or a list of rounds."""
    if hasattr(rounds, "values"):
        return rounds.values("pk")
    return [round_.pk for round_ in rounds]


def _count_by(queryset, name: str):
    return queryset.order_by().values_list(name).annotate(n=Count("pk"))


def _addresses(mails) -> list[MailAddress]:
    return [
        MailAddress(
            invitation_id=mail.invitation_id,
            email=mail.invitation.person.email if mail.invitation.person else "",
            role=mail.invitation.role,
            team=mail.invitation.round.team.name,
            error=mail.error,
        )
        for mail in mails.select_related("invitation__person", "invitation__round__team").order_by("pk")
    ]


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _tell(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)
