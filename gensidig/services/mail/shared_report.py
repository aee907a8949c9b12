"""The e-mail that tells a round's leaders their chief has shared the report (issue 10, item 4).

Each leader invited to the round gets one, in their own language, with a sign-in link that lands
on the shared report. The link is made when the e-mail is sent (its token lives only in the
message, like every sign-in link) and lasts longer than one asked for on the sign-in page, as a
notification may wait in an inbox for days; it still works only once.

Sharing only queues the e-mails (a ReportNotice per leader), in the same transaction as the
sharing; the sender sends them, at most once each, as the outbox sends invitations. So a mail
server that is down never stands in the way of sharing, and stopping the sharing before the
sender runs sends nothing.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gensidig.models import MailStatus, Person, ReportNotice, Round, SignInLink
from gensidig.models.choices import Role
from gensidig.services.mail.message import AUTOMATIC_HEADERS
from gensidig.services.mail.server import Result, Stop, deliver, mail_server
from gensidig.services.results.rendered import retire
from gensidig.services.signin import new_link, user_for_email

LINK_LIFETIME = datetime.timedelta(days=7)
# Notices sent per run of the sender; the rest wait for the next.
BATCH = 500
ERROR_LENGTH = ReportNotice._meta.get_field("error").max_length


@dataclass
class NoticeReport:
    """What one run of the sender did with the shared reports' e-mails."""

    sent: int = 0
    failed: int = 0
    remaining: int = 0
    connection_error: str = ""


def share_report(*, round_: Round) -> int:
    """Share the round's report with its leaders and queue the e-mail that tells each; returns how many.

    Sharing again queues nobody twice: whoever has had the e-mail, or has it waiting, keeps that row.
    """
    with transaction.atomic():
        Round.objects.filter(pk=round_.pk).update(shared_on=timezone.localdate())
        round_.refresh_from_db(fields=["shared_on"])
        told = set(ReportNotice.objects.filter(round=round_).values_list("person_id", flat=True))
        new = [ReportNotice(round=round_, person=person) for person in leaders_to_tell(round_) if person.pk not in told]
        # Two shares at once may both find a leader untold; the unique constraint keeps one row.
        ReportNotice.objects.bulk_create(new, ignore_conflicts=True)
        # The team's pages show when it was shared, and the team's course its shared rounds.
        retire(team_ids=[round_.team_id])
    return len(new)


def stop_sharing(*, round_: Round) -> None:
    """Stop sharing the report; e-mails not yet sent about it are not sent."""
    with transaction.atomic():
        Round.objects.filter(pk=round_.pk).update(shared_on=None)
        round_.refresh_from_db(fields=["shared_on"])
        ReportNotice.objects.filter(round=round_, status=MailStatus.PENDING).delete()
        retire(team_ids=[round_.team_id])


def send_report_notices(*, now: datetime.datetime | None = None) -> NoticeReport:
    """Send the waiting e-mails of shared reports, at most once each; counts only.

    Each is claimed (PENDING -> SENDING, a conditional UPDATE, with its new sign-in link) and that
    committed before it is handed to the mail server. A refused address is marked FAILED; if the
    server takes nothing or goes away, the run stops and the rest wait for the next run. One lost
    half-way may or may not have arrived, and stays SENDING: it is never sent again.
    """
    now = now or timezone.now()
    report = NoticeReport()
    waiting = ReportNotice.objects.filter(status=MailStatus.PENDING, round__shared_on__isnull=False)
    ids = list(waiting.order_by("pk").values_list("pk", flat=True)[:BATCH])
    if not ids:
        return report  # nothing to send: the mail server is not contacted
    try:
        with mail_server() as connection:
            notices = ReportNotice.objects.filter(pk__in=ids).select_related(
                "person", "round__team__organisation", "round__team__chief"
            )
            for notice in notices.order_by("pk"):
                claimed = _claim(notice, now=now)
                if claimed is None:
                    continue
                link, message = claimed
                outcome = deliver(connection, message)
                if outcome.result is Result.SENT:
                    report.sent += 1
                    _mark(notice, status=MailStatus.SENT)
                    continue
                if outcome.result in (Result.FAILED, Result.NOT_TAKEN):
                    link.delete()  # it reached nobody
                if outcome.result is Result.FAILED:
                    report.failed += 1
                    _mark(notice, status=MailStatus.FAILED, error=outcome.error)
                elif outcome.result is Result.NOT_TAKEN:
                    _mark(notice, status=MailStatus.PENDING)
                    raise Stop(outcome.error)
                else:  # LOST: it may have arrived, so it stays SENDING and is not sent again
                    raise Stop(outcome.error)
    except Stop as stop:
        report.connection_error = stop.reason
    report.remaining = waiting.count()
    return report


def _claim(notice: ReportNotice, *, now: datetime.datetime):
    """Take one notice for this sender, with its message and new link; None if it is not to be sent."""
    with transaction.atomic():
        claimed = ReportNotice.objects.filter(
            pk=notice.pk, status=MailStatus.PENDING, round__shared_on__isnull=False
        ).update(status=MailStatus.SENDING)
        if not claimed:
            return None  # another sender took it, or the sharing stopped
        made = (
            shared_report_message(round_=notice.round, person=notice.person, now=now) if notice.person.active else None
        )
        if made is None:
            _mark(notice, status=MailStatus.FAILED, error=_("The person is no longer in the organisation's chart."))
        return made


def _mark(notice: ReportNotice, *, status: str, error: str = "") -> None:
    ReportNotice.objects.filter(pk=notice.pk, status=MailStatus.SENDING).update(
        status=status, error=error[:ERROR_LENGTH]
    )


def leaders_to_tell(round_: Round) -> list[Person]:
    """The round's invited leaders who are still in the organisation's chart, with an address.

    Whether someone answered plays no part: everyone invited is told, so the list says nothing.
    """
    return list(
        Person.objects.filter(invitations__round=round_, invitations__role=Role.LEADER, active=True)
        .exclude(email="")
        .order_by("pk")
    )


def shared_report_message(
    *, round_: Round, person: Person, now: datetime.datetime
) -> tuple[SignInLink, EmailMultiAlternatives] | None:
    """One leader's e-mail with a new sign-in link to the team's report; None if they cannot sign in.

    The account is made on first use, as signing in by e-mail makes it, and tied to the person, so
    the link lands on a report the leader may read.
    """
    user = user_for_email(person.email)
    if user is None:
        return None
    link, url = new_link(
        user=user,
        now=now,
        lifetime=LINK_LIFETIME,
        next_path=reverse("gensidig:team-report", args=[round_.public_id]),
    )
    team = round_.team
    organisation = team.organisation
    with translation.override(organisation.language_for(person.language)):
        context = {
            "round": round_,
            "team": team,
            "organisation": organisation,
            "person": person,
            "chief": team.chief.name or team.chief.email,
            "url": url,
            "days": LINK_LIFETIME.days,
        }
        message = EmailMultiAlternatives(
            subject=" ".join(render_to_string("gensidig/emails/report_shared_subject.txt", context).split()),
            body=render_to_string("gensidig/emails/report_shared.txt", context),
            to=[person.email],
            headers=dict(AUTOMATIC_HEADERS),
        )
        message.attach_alternative(render_to_string("gensidig/emails/report_shared.html", context), "text/html")
    return link, message
