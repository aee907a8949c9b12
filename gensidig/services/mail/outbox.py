"""The outbox: invitation e-mails, each person their own link, at most once, resumable.

Tokens are stored only as hashes, so a link can be put into an e-mail only at the moment it is
made: every invitation carries a new token, added to the invitation's links (DESIGN.md 2.7).

At most once, never twice. Senders take batches of waiting rows; a batch is sent in four steps:

1. a new token is made for each row, outside any transaction;
2. one transaction claims the rows still waiting (PENDING -> SENDING, one conditional UPDATE ...
   RETURNING, so two senders never claim the same row), stores the claimed rows' token hashes in
   one insert, and commits;
3. each claimed row's message is rendered with its link and handed to the mail server, over one
   connection per sender reused for the whole run;
4. what the server took is marked SENT in one statement; a refusal is marked FAILED at once, with
   a short reason.

A crash between 2 and 4 leaves the batch SENDING. A later run never sends it again by itself: it is
reported as interrupted (it may or may not have arrived) until an admin re-queues it. A message
the server certainly did not take leaves no link behind: its token is deleted again, and so are
the tokens of the rows a sender that stops on an error never got to (they go back to PENDING).

Several senders (GENSIDIG_MAIL_SENDERS threads, each with its own database and mail server
connections) work through one run's batches at once, and several runs (workers) may too: the
claim decides who sends what. A sender mostly waits on the mail server, so threads suffice; on
PostgreSQL a claim skips rows another sender is claiming at that moment instead of waiting.

Reminders are services.mail.reminders.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from gensidig.models import (
    AnswerToken,
    Campaign,
    Invitation,
    InvitationMail,
    MailStatus,
    ReminderBatch,
    ReminderStatus,
    Round,
)
from gensidig.models.choices import RoundStatus
from gensidig.models.mail import CampaignMailCount
from gensidig.services.mail.message import Letters
from gensidig.services.mail.message import build_message as build_message  # services.mail.direct takes it from here
from gensidig.services.mail.server import Result, Stop, deliver, mail_server
from gensidig.services.survey.tokens import new_token

Progress = Callable[[int, int], None]

# Rows a sender claims, and marks sent, at a time. A sender that dies leaves at most this many
# rows interrupted, among them some that certainly never went out.
BATCH = 50

# SQLite lets one connection write at a time, and one that finds the file locked sleeps in steps
# of up to 100 ms before it looks again. The senders of one process therefore take turns here
# for their short writes instead, which keeps them from sleeping on each other.
_SQLITE_WRITES = threading.Lock()
ERROR_LENGTH = InvitationMail._meta.get_field("error").max_length


# --- Reports ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailAddress:
    """An invitation e-mail that needs the admin's attention. Never used for reminders."""

    invitation_id: int
    email: str
    role: str
    team: str
    error: str = ""
    status: str = ""  # the e-mail's MailStatus, to sort one read into the report's lists


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
    round_id: int | None  # None: the batches of a whole campaign with the same number and state, summed
    number: int
    sent: int
    failed: int
    done: bool
    interrupted: bool
    manual: bool = False  # sent by hand ("send a reminder now"), not on the schedule


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
        InvitationMail(invitation_id=pk, round_id=round_id)
        for pk, round_id in Invitation.objects.filter(round__in=_ids(rounds), person__isnull=False, mail__isnull=True)
        .order_by("pk")
        .values_list("pk", "round_id")
    ]
    InvitationMail.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
    return len(new)


def resend_interrupted(*, rounds: Iterable[Round]) -> int:
    """Queue again the invitation e-mails interrupted while being sent; returns how many.

    They may or may not have arrived, so the admin decides. Sending one makes a fresh token, so
    the link in a copy that did arrive stops working. Run it only when no sender is running: a
    message being sent at this very moment looks the same as an interrupted one.
    """
    return InvitationMail.objects.filter(round__in=_ids(rounds), status=MailStatus.SENDING).update(
        status=MailStatus.PENDING, error=""
    )


def resend_failed(*, rounds: Iterable[Round], invitation_ids: Iterable[int] | None = None) -> int:
    """Queue again invitation e-mails that could not be delivered (all, or those of the given invitations)."""
    failed = InvitationMail.objects.filter(round__in=_ids(rounds), status=MailStatus.FAILED)
    if invitation_ids is not None:
        failed = failed.filter(invitation_id__in=list(invitation_ids))
    return failed.update(status=MailStatus.PENDING, error="")


def mail_status(*, rounds: Iterable[Round] | None = None, campaign: Campaign | None = None) -> MailStatusReport:
    """Counts per status, the addresses that failed or were interrupted, and reminder counts only.

    Of some rounds, counted from their e-mails; or of a whole campaign, from the counts the
    database keeps for it (CampaignMailCount), a few rows whatever the campaign's size.
    """
    if campaign is not None:
        mails = InvitationMail.objects.filter(round__campaign=campaign)
        counts = campaign_mail_counts(campaign=campaign)
        reminders = _campaign_reminders(campaign)
    else:
        round_ids = _ids(rounds)
        # By the e-mails' own round: the counts come from the (round, status) index alone,
        # without joining the invitations.
        mails = InvitationMail.objects.filter(round__in=round_ids)
        counts = dict.fromkeys(MailStatus.values, 0)
        for status, in_status in _count_by(mails, "status"):
            counts[status] = in_status
        reminders = [
            ReminderCount(
                round_id=batch.round_id,
                number=batch.number,
                sent=batch.sent,
                failed=batch.failed,
                done=batch.done,
                interrupted=batch.interrupted,
                manual=batch.manual,
            )
            for batch in ReminderBatch.objects.filter(round__in=round_ids).order_by("round_id", "number")
        ]
    # Both short lists in one statement, and none when the counts say there is nothing to list.
    needing_attention = []
    if counts[MailStatus.FAILED] or counts[MailStatus.SENDING]:
        needing_attention = _addresses(mails.filter(status__in=[MailStatus.FAILED, MailStatus.SENDING]))
    return MailStatusReport(
        counts=counts,
        failed=[mail for mail in needing_attention if mail.status == MailStatus.FAILED],
        interrupted=[mail for mail in needing_attention if mail.status == MailStatus.SENDING],
        reminders=reminders,
    )


def _campaign_reminders(campaign: Campaign) -> list[ReminderCount]:
    """A campaign's reminder batches summed by the database, one line per number and state, not per round."""
    summed = (
        ReminderBatch.objects.filter(round__campaign=campaign)
        .order_by()
        .values_list("number", "manual", "status", "interrupted")
        .annotate(sent=Sum("sent"), failed=Sum("failed"))
        .order_by("number", "status", "interrupted")
    )
    return [
        ReminderCount(
            round_id=None,
            number=number,
            sent=sent,
            failed=failed,
            done=status == ReminderStatus.DONE,
            interrupted=interrupted,
            manual=manual,
        )
        for number, manual, status, interrupted, sent, failed in summed
    ]


def campaign_mail_counts(*, campaign: Campaign) -> dict[str, int]:
    """A campaign's invitation e-mails per status, summed from the shares the database keeps (0028)."""
    counts = dict.fromkeys(MailStatus.values, 0)
    kept = CampaignMailCount.objects.filter(campaign=campaign).order_by().values_list("status").annotate(n=Sum("n"))
    for status, in_status in kept:
        counts[status] = in_status
    return counts


# --- Sending invitations ------------------------------------------------------------------------


def send_invitations(
    *,
    campaign: Campaign | None = None,
    rounds: Iterable[Round] | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
    senders: int | None = None,
) -> SendReport:
    """Send the waiting invitation e-mails (of a campaign, some rounds, or all), at most once each.

    Only rounds that still accept answers are sent to. A message the server refuses is marked
    FAILED and the run goes on; if the server cannot be reached or goes away, the run stops and
    the rest stays waiting for the next one. Rows found interrupted are reported, never re-sent.
    `senders` (default GENSIDIG_MAIL_SENDERS) senders work at once, each with its own database
    and mail server connections, taking batches of the waiting rows in turn.
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
    run = _Run(ids, report, progress)
    if ids:
        senders = senders or settings.GENSIDIG_MAIL_SENDERS
        if connection.in_atomic_block:
            # Another connection would not see what this transaction has not committed.
            senders = 1
        senders = max(1, min(senders, -(-len(ids) // BATCH)))
        if senders == 1:
            run.sender()
        else:
            threads = [threading.Thread(target=run.sender_thread, name=f"mail-sender-{n}") for n in range(senders)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if run.errors:
                raise run.errors[0]
    report.failures = _addresses(InvitationMail.objects.filter(pk__in=ids, status=MailStatus.FAILED))
    report.interrupted = _addresses(scope.filter(status=MailStatus.SENDING))
    report.remaining = pending.count()
    return report


class _Run:
    """The batches of one run, shared by its senders, and what they did (threads take turns under a lock)."""

    def __init__(self, ids: list[int], report: SendReport, progress: Progress | None):
        batches = list(_chunks(ids, BATCH))
        # Each run starts at a batch of its own choosing, so that runs in several worker processes
        # at once mostly claim different rows instead of racing for the same ones.
        start = secrets.randbelow(len(batches)) if batches else 0
        self.batches = iter(batches[start:] + batches[:start])
        self.report, self.progress = report, progress
        self.total, self.done = len(ids), 0
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.errors: list[BaseException] = []
        tell_progress(progress, 0, self.total)

    def next_batch(self) -> list[int] | None:
        with self.lock:
            return None if self.stopped.is_set() else next(self.batches, None)

    def count(self, result: Result) -> None:
        with self.lock:
            if result is Result.SENT:
                self.report.sent += 1
            elif result is Result.FAILED:
                self.report.failed += 1
            self.done += 1
            tell_progress(self.progress, self.done, self.total)

    def sender(self) -> None:
        """One sender: its own mail server connection, batch after batch until none is left or the server goes."""
        letters = Letters()
        try:
            with mail_server() as mail_connection:
                while (batch := self.next_batch()) is not None:
                    _send_batch(mail_connection, letters, batch, self)
        except Stop as stop:
            with self.lock:
                self.stopped.set()
                self.report.connection_error = self.report.connection_error or stop.reason

    def sender_thread(self) -> None:
        try:
            self.sender()
        except BaseException as error:  # a bug, or a crash: the run stops and raises it
            self.stopped.set()
            self.errors.append(error)
        finally:
            connection.close()  # this thread's own database connection


def _send_batch(mail_connection, letters: Letters, batch: list[int], run: _Run) -> None:
    """Claim, send and mark one batch; at most once for each message, whatever happens half-way.

    New tokens are made for the batch's rows; one transaction claims the rows still waiting
    (PENDING -> SENDING) and stores the hashes of the claimed rows' tokens. Each claimed row's
    message is then rendered with its token and handed over, and what the server took is marked
    SENT in one statement at the end. If the sender stops half-way (the server goes away, or an
    exception) the messages it certainly never handed over go back to PENDING without their
    links, and the one being handed over stays SENDING; if the process dies, the whole batch stays
    SENDING and is reported as interrupted, never sent again by itself.
    """
    rows = (
        InvitationMail.objects.filter(pk__in=batch, status=MailStatus.PENDING)
        .select_related("invitation__person", "invitation__round__team__organisation")
        .order_by("pk")
    )
    made = []
    for mail in rows:
        if mail.invitation.person is None:
            gone = InvitationMail.objects.filter(pk=mail.pk, status=MailStatus.PENDING).update(
                status=MailStatus.FAILED, error=_("The person is no longer in the organisation's chart.")
            )
            run.count(Result.FAILED if gone else Result.SKIPPED)
            continue
        made.append((mail, new_token()))
    if not made:
        return
    with _writing(), transaction.atomic():
        claimed = _claim([mail.pk for mail, _token in made])
        AnswerToken.objects.bulk_create(
            [
                AnswerToken(invitation_id=mail.invitation_id, token_hash=token.token_hash)
                for mail, token in made
                if mail.pk in claimed
            ]
        )
    for _skipped in range(len(made) - len(claimed)):  # another sender has them
        run.count(Result.SKIPPED)
    made = [(mail, token) for mail, token in made if mail.pk in claimed]
    handed, sent = set(), []
    try:
        for mail, token in made:
            invitation = mail.invitation
            message = letters.message(
                round_=invitation.round, person=invitation.person, role=invitation.role, token=token.token
            )
            handed.add(mail.pk)
            outcome = deliver(mail_connection, message)
            if outcome.result is Result.SENT:
                sent.append(mail.pk)
            elif outcome.result in (Result.FAILED, Result.NOT_TAKEN):
                # Not delivered: the new link reached nobody, so it goes again.
                with _writing(), transaction.atomic():
                    AnswerToken.objects.filter(token_hash=token.token_hash).delete()
                    if outcome.result is Result.FAILED:
                        update = {"status": MailStatus.FAILED, "error": outcome.error[:ERROR_LENGTH]}
                    else:
                        update = {"status": MailStatus.PENDING}
                    InvitationMail.objects.filter(pk=mail.pk, status=MailStatus.SENDING).update(**update)
            if outcome.result is not Result.NOT_TAKEN:
                run.count(outcome.result)
            if outcome.result in (Result.NOT_TAKEN, Result.LOST):
                # LOST stays SENDING on purpose: it may have arrived, so it is reported, not re-sent.
                raise Stop(outcome.error)
    finally:
        if sent:
            with _writing():
                InvitationMail.objects.filter(pk__in=sent, status=MailStatus.SENDING).update(status=MailStatus.SENT)
        never_handed = [(mail, token) for mail, token in made if mail.pk not in handed]
        if never_handed:
            with _writing(), transaction.atomic():
                AnswerToken.objects.filter(token_hash__in=[token.token_hash for _mail, token in never_handed]).delete()
                InvitationMail.objects.filter(
                    pk__in=[mail.pk for mail, _token in never_handed], status=MailStatus.SENDING
                ).update(status=MailStatus.PENDING)


def _writing():
    """The senders of this process, one at a time, on SQLite (see _SQLITE_WRITES); no wait elsewhere."""
    return _SQLITE_WRITES if connection.vendor == "sqlite" else contextlib.nullcontext()


def _claim(ids: list[int]) -> set[int]:
    """PENDING -> SENDING for those of the rows still waiting, in one statement; returns the ids claimed.

    On PostgreSQL, rows another sender is claiming at this very moment are skipped rather than
    waited for (it sends them, or puts them back for a later run).
    """
    table = connection.ops.quote_name(InvitationMail._meta.db_table)
    listed = ", ".join(["%s"] * len(ids))
    if connection.vendor == "postgresql":
        where = f"id IN (SELECT id FROM {table} WHERE id IN ({listed}) AND status = %s FOR UPDATE SKIP LOCKED)"  # noqa: S608 - names are ours, values are parameters
    else:
        where = f"id IN ({listed}) AND status = %s"
    sql = f"UPDATE {table} SET status = %s, error = '' WHERE {where} AND status = %s RETURNING id"  # noqa: S608 - as above
    with connection.cursor() as cursor:
        cursor.execute(sql, [MailStatus.SENDING, *ids, MailStatus.PENDING, MailStatus.PENDING])
        return {row[0] for row in cursor.fetchall()}


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
            status=mail.status,
        )
        for mail in mails.select_related("invitation__person", "invitation__round__team").order_by("pk")
    ]


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def tell_progress(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)
