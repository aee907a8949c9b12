"""The outbox: invitation e-mails, each person their own link, at most once, resumable.

Tokens are stored only as hashes, so a link can be put into an e-mail only at the moment it is
made: every invitation carries a new token, added to the invitation's links (DESIGN.md 2.7).

At most once, never twice. An invitation is sent in four steps:

1. a new token is made and the message rendered with it, outside any transaction;
2. one transaction claims the outbox row (PENDING -> SENDING, a conditional UPDATE, so two
   senders never claim the same row) and stores the new token's hash, and commits;
3. the message is handed to the mail server, over one connection reused for the whole run;
4. the row is marked SENT, or FAILED with a short reason.

A crash between 2 and 4 leaves the row SENDING. A later run never sends it again by itself: it is
reported as interrupted (it may or may not have arrived) until an admin re-queues it. A message
the server certainly did not take leaves no link behind: its token is deleted again.

Reminders are services.mail.reminders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from gensidig.models import AnswerToken, Campaign, Invitation, InvitationMail, MailStatus, ReminderBatch, Round
from gensidig.models.choices import RoundStatus
from gensidig.services.mail.message import build_message
from gensidig.services.mail.server import Outcome, Result, Stop, deliver, mail_server
from gensidig.services.survey.tokens import new_token

Progress = Callable[[int, int], None]

CHUNK = 200
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
            done=batch.done,
            interrupted=batch.interrupted,
            manual=batch.manual,
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
    tell_progress(progress, 0, total)
    if ids:
        try:
            with mail_server() as connection:
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
                            raise Stop(outcome.error)
                        done += 1
                        tell_progress(progress, done, total)
        except Stop as stop:
            report.connection_error = stop.reason
    report.failures = _addresses(InvitationMail.objects.filter(pk__in=ids, status=MailStatus.FAILED))
    report.interrupted = _addresses(scope.filter(status=MailStatus.SENDING))
    report.remaining = pending.count()
    return report


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
        AnswerToken.objects.create(invitation=invitation, token_hash=token.token_hash)
    outcome = deliver(connection, message)
    if outcome.result is Result.SENT:
        InvitationMail.objects.filter(pk=mail.pk, status=MailStatus.SENDING).update(status=MailStatus.SENT)
    elif outcome.result in (Result.FAILED, Result.NOT_TAKEN):
        # Not delivered: the new link reached nobody, so it goes again.
        with transaction.atomic():
            AnswerToken.objects.filter(token_hash=token.token_hash).delete()
            if outcome.result is Result.FAILED:
                update = {"status": MailStatus.FAILED, "error": outcome.error[:ERROR_LENGTH]}
            else:
                update = {"status": MailStatus.PENDING}
            InvitationMail.objects.filter(pk=mail.pk, status=MailStatus.SENDING).update(**update)
    # LOST: left SENDING on purpose -- it may have arrived, so it is reported, not re-sent.
    return outcome


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


def tell_progress(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)
