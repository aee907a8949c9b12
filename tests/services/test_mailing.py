"""Invitations and reminders over a real SMTP server: one each, in each person's language, at most once."""

import datetime
import io
import smtplib
import threading

import pytest
from django.core.mail.backends.smtp import EmailBackend
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone, translation

from gensidig.models import AnswerToken, Invitation, InvitationMail, MailStatus, ReminderBatch, Team, TeamMembership
from gensidig.models.choices import Language, Role
from gensidig.services.mail.outbox import (
    mail_status,
    queue_invitations,
    resend_failed,
    resend_interrupted,
    send_invitations,
)
from gensidig.services.mail.reminders import send_reminders, start_due_reminders
from gensidig.services.mail.server import mail_server_trouble
from gensidig.services.survey.answering import usable_invitation
from gensidig.services.survey.links import AnswerLink
from gensidig.services.survey.tokens import hash_token

from .. import smtp
from ..factories import PersonFactory, answer, answers_for, make_team, start_round

pytestmark = pytest.mark.django_db
smtp_server = smtp.smtp_server  # a real SMTP server on a free port
no_smtp_server = smtp.no_smtp_server  # a port where nothing listens


@pytest.fixture(autouse=True)
def _own_data_folder(settings, tmp_path):
    """The sender's note on the mail server lives in the data folder: each test has its own."""
    settings.DATA_DIR = tmp_path


class Crash(Exception):
    """Stands for the process dying: nothing in the sender handles it."""


def queued_round(team, **kwargs):
    round_, links = start_round(team, **kwargs)
    queue_invitations(rounds=[round_])
    return round_, links


def works(token: str) -> bool:
    return usable_invitation(token_hash=hash_token(token)) is not None


def crash_after(monkeypatch, calls: int):
    """Make the SMTP connection hand over `calls` messages, then die right after the last one was delivered."""
    original = EmailBackend.send_messages
    made = []

    def send_then_crash(self, messages):
        sent = original(self, messages)
        made.append(1)
        if len(made) == calls:
            raise Crash
        return sent

    monkeypatch.setattr(EmailBackend, "send_messages", send_then_crash)


def answer_with(token: str, round_, role=Role.LEADER):
    answer(AnswerLink(person=None, role=role, token=token), answers_for(round_, role, 4))


def run_command(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("send_mail", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- Invitations --------------------------------------------------------------------------------


def test_each_person_gets_one_email_per_round_and_a_middle_manager_gets_two(smtp_server):
    top = make_team(leaders=5)
    middle = top.leaders.order_by("pk").first()
    sub = Team.objects.create(organisation=top.organisation, name="Hjemmepleje", slug="hjemmepleje", chief=middle)
    for _ in range(5):
        TeamMembership.objects.create(team=sub, person=PersonFactory(organisation=top.organisation))
    top_round, _ = start_round(top)
    sub_round, _ = start_round(sub)

    assert queue_invitations(rounds=[top_round, sub_round]) == 12
    assert queue_invitations(rounds=[top_round, sub_round]) == 0  # idempotent
    seen = []
    report = send_invitations(rounds=[top_round, sub_round], progress=lambda done, total: seen.append((done, total)))

    assert report.sent == 12 and report.failed == 0 and not report.interrupted and not report.connection_error
    assert seen[0] == (0, 12) and seen[-1] == (12, 12)
    recipients = smtp_server.recipients()
    assert len(recipients) == 12
    assert {address: recipients.count(address) for address in recipients if recipients.count(address) > 1} == {
        middle.email: 2
    }
    subjects = sorted(m.subject for m in smtp_server.to(middle.email))
    assert subjects == [f"Din del af undersøgelsen for {sub.name}", f"Hvad har du brug for fra din chef? ({top.name})"]
    assert set(InvitationMail.objects.values_list("status", flat=True)) == {MailStatus.SENT}
    assert send_invitations(rounds=[top_round, sub_round]).sent == 0  # nothing is sent twice


def test_everyone_gets_the_email_in_their_own_language(smtp_server):
    team = make_team(leaders=5)
    english = team.leaders.order_by("pk")[0]
    english.language = Language.ENGLISH
    english.save()
    danish = team.leaders.order_by("pk")[1]
    queued_round(team)

    send_invitations()

    (mail_en,) = smtp_server.to(english.email)
    assert mail_en.subject == f"What do you need from your chief? ({team.name})"
    assert "You are invited to answer a short survey" in mail_en.text
    assert 'lang="en"' in mail_en.html and "Answer the survey" in mail_en.html
    (mail_da,) = smtp_server.to(danish.email)
    assert mail_da.subject == f"Hvad har du brug for fra din chef? ({team.name})"
    assert f"Kære {danish.name}" in mail_da.text and "You are invited" not in mail_da.text
    assert 'lang="da"' in mail_da.html and "Svar på undersøgelsen" in mail_da.html
    (mail_chief,) = smtp_server.to(team.chief.email)
    assert mail_chief.subject == f"Din del af undersøgelsen for {team.name}"


def test_each_email_is_plain_text_with_an_html_alternative_and_says_what_it_must(smtp_server):
    team = make_team(leaders=5)
    team.name = "Ældre & Sundhed"
    team.save()
    round_, _ = queued_round(team, threshold=6)

    send_invitations()

    leader = team.leaders.first()
    (received,) = smtp_server.to(leader.email)
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Message-ID"] and message["Auto-Submitted"] == "auto-generated"
    assert received.subject == "Hvad har du brug for fra din chef? (Ældre & Sundhed)"  # not HTML-escaped
    closes = timezone.localtime(round_.closes_at)
    for body in (received.text, received.html):
        assert "6" in body  # the threshold k
        assert team.organisation.name in body
        assert f"{closes:%H:%M}" in body and str(closes.year) in body
        assert f"/a/{received.token}/" in body
    assert "Ældre &amp; Sundhed" in received.html and "Ældre & Sundhed" in received.text


def test_the_link_in_the_email_works_for_its_person_and_one_printed_before_works_too(smtp_server):
    team = make_team(leaders=5)
    _round, links = queued_round(team)

    send_invitations()

    for link in links:
        (received,) = smtp_server.to(link.person.email)
        assert received.token != link.token
        assert usable_invitation(token_hash=hash_token(received.token)).person == link.person
        assert usable_invitation(token_hash=hash_token(link.token)).person == link.person


def test_a_crash_half_way_never_sends_anyone_two_copies_and_a_rerun_sends_the_rest(smtp_server, monkeypatch):
    team = make_team(leaders=8)
    queued_round(team)
    crash_after(monkeypatch, 4)

    with pytest.raises(Crash):
        send_invitations()

    monkeypatch.undo()
    assert len(smtp_server.received) == 4
    (caught,) = InvitationMail.objects.filter(status=MailStatus.SENDING).select_related("invitation__person")
    caught_address = caught.invitation.person.email

    report = send_invitations()

    assert report.sent == 5
    assert [mail.email for mail in report.interrupted] == [caught_address]
    recipients = smtp_server.recipients()
    assert len(recipients) == len(set(recipients)) == 9  # everyone once, nobody twice
    status = mail_status(rounds=team.rounds.all())
    assert status.counts == {MailStatus.PENDING: 0, MailStatus.SENDING: 1, MailStatus.SENT: 8, MailStatus.FAILED: 0}
    assert [mail.email for mail in status.interrupted] == [caught_address]
    assert send_invitations().sent == 0  # a third run still does not send it again by itself


def test_the_admin_can_send_an_interrupted_invitation_again_with_a_fresh_link(smtp_server, monkeypatch):
    team = make_team(leaders=5)
    queued_round(team)
    crash_after(monkeypatch, 1)
    with pytest.raises(Crash):
        send_invitations()
    monkeypatch.undo()
    (first,) = smtp_server.received

    assert resend_interrupted(rounds=team.rounds.all()) == 1
    send_invitations()

    again = smtp_server.to(first.to)
    assert len(again) == 2 and again[1].token != first.token
    assert works(again[1].token) and works(first.token)  # either may be the one that arrived
    assert mail_status(rounds=team.rounds.all()).counts[MailStatus.SENT] == 6


def test_refused_addresses_are_marked_failed_and_listed_for_the_admin(smtp_server):
    team = make_team(leaders=5)
    bouncing = team.leaders.order_by("pk")[2]
    bouncing.email = "bounce.me@kommune.example"
    bouncing.save()
    round_, links = queued_round(team)

    report = send_invitations()

    assert report.sent == 5 and report.failed == 1
    (failure,) = report.failures
    assert (
        failure.email == "bounce.me@kommune.example" and "550" in failure.error and "No such mailbox" in failure.error
    )
    status = mail_status(rounds=[round_])
    assert status.counts[MailStatus.FAILED] == 1 and status.counts[MailStatus.SENT] == 5
    assert [(m.email, m.role) for m in status.failed] == [("bounce.me@kommune.example", Role.LEADER)]
    # Nothing reached them, so the link they may already have keeps working.
    assert works(next(link.token for link in links if link.person == bouncing))

    bouncing.email = "fixed@kommune.example"
    bouncing.save()
    assert resend_failed(rounds=[round_], invitation_ids=[failure.invitation_id]) == 1
    assert send_invitations().sent == 1
    assert len(smtp_server.to("fixed@kommune.example")) == 1


def test_an_unreachable_server_leaves_everything_waiting_and_says_so(no_smtp_server):
    team = make_team(leaders=5)
    round_, links = queued_round(team)

    with translation.override("en"):
        report = send_invitations()

    assert report.server_unreachable and "could not be reached" in report.connection_error
    assert report.sent == report.failed == 0 and report.remaining == 6
    assert mail_status(rounds=[round_]).counts[MailStatus.PENDING] == 6
    assert all(works(link.token) for link in links)


def test_the_sender_notes_an_unreachable_server_and_forgets_it_once_it_gets_through(settings, smtp_server):
    team = make_team(leaders=5)
    queued_round(team)
    settings.MAILERS = smtp.smtp_settings(smtp.free_port())
    send_invitations()
    first = mail_server_trouble()
    assert first is not None and "Errno" in first.error
    send_invitations()
    assert mail_server_trouble().since == first.since  # since the first failed try, not the latest

    settings.MAILERS = smtp.smtp_settings(smtp_server.port)
    assert send_invitations().sent == 6
    assert mail_server_trouble() is None


def fail_on(monkeypatch, call: int, error: Exception):
    """Make the `call`-th message handed to the SMTP connection fail with `error`, as smtplib would raise it."""
    original = EmailBackend.send_messages
    made = []

    def send_or_fail(self, messages):
        made.append(1)
        if len(made) == call:
            raise error
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_or_fail)


def test_a_connection_lost_mid_message_stops_the_run_and_that_message_is_reported_uncertain(smtp_server, monkeypatch):
    team = make_team(leaders=8)
    queued_round(team)
    fail_on(monkeypatch, 3, smtplib.SMTPServerDisconnected("Connection unexpectedly closed"))

    with translation.override("en"):
        report = send_invitations()

    assert report.sent == 2 and report.failed == 0 and "lost" in report.connection_error
    assert report.remaining == 6  # the rest waits for the next run, none marked failed
    (uncertain,) = report.interrupted
    monkeypatch.undo()
    assert send_invitations().sent == 6
    recipients = smtp_server.recipients()
    assert len(recipients) == len(set(recipients)) == 8 and uncertain.email not in recipients


def test_a_server_taking_nothing_now_leaves_the_message_waiting_and_its_link_unchanged(smtp_server, monkeypatch):
    team = make_team(leaders=5)
    _round, links = queued_round(team)
    fail_on(monkeypatch, 1, smtplib.SMTPDataError(421, b"4.3.2 Shutting down, try again later"))

    report = send_invitations()

    assert report.sent == 0 and report.failed == 0 and report.connection_error and not report.interrupted
    assert InvitationMail.objects.filter(status=MailStatus.PENDING).count() == 6
    assert all(works(link.token) for link in links)
    monkeypatch.undo()
    assert send_invitations().sent == 6


def test_a_closed_round_is_not_sent_to(smtp_server):
    team = make_team(leaders=5)
    round_, _ = queued_round(team)
    round_.closes_at = timezone.now() - datetime.timedelta(minutes=1)
    round_.save()

    assert send_invitations().sent == 0
    assert smtp_server.received == []


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_never_send_anyone_two_copies(smtp_server):
    team = make_team(leaders=12)
    queued_round(team)
    reports, errors = [], []

    def sender():
        try:
            reports.append(send_invitations())
        except Exception as error:  # pragma: no cover - shown by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    recipients = smtp_server.recipients()
    assert len(recipients) == len(set(recipients)) == 13
    assert sum(report.sent for report in reports) == 13


# --- Reminders ------------------------------------------------------------------------------


def invited_round(team, smtp_server):
    """An open round whose invitations were all sent; returns the round and each address's token."""
    round_, _ = queued_round(team)
    send_invitations()
    tokens = {m.to: m.token for m in smtp_server.received}
    smtp_server.clear()
    return round_, tokens


def test_the_due_reminder_reaches_exactly_those_who_have_not_answered(smtp_server):
    team = make_team(leaders=8)
    round_, tokens = invited_round(team, smtp_server)
    leaders = list(team.leaders.order_by("pk"))
    answered = leaders[:3]
    for person in answered:
        answer_with(tokens[person.email], round_)

    (batch,) = start_due_reminders(now=round_.closes_at - datetime.timedelta(days=6))
    report = send_reminders()

    expected = {p.email for p in leaders[3:]} | {team.chief.email}
    recipients = smtp_server.recipients()
    assert len(recipients) == len(set(recipients)) and set(recipients) == expected
    assert not {p.email for p in answered} & set(recipients)
    assert report.sent == 6 and report.failed == 0 and not report.failures and not report.interrupted
    batch.refresh_from_db()
    assert batch.number == 1 and batch.done and not batch.interrupted and batch.sent == 6 and batch.failed == 0
    # The reminder's link works, and so does the invitation's: whichever they open first.
    for received in smtp_server.received:
        assert works(received.token) and works(tokens[received.to])
    assert smtp_server.to(team.chief.email)[0].subject.endswith(f"{team.name}")
    # Only counts are kept, and a second run starts nothing new.
    assert mail_status(rounds=[round_]).reminders[0].sent == 6
    assert start_due_reminders(now=round_.closes_at - datetime.timedelta(days=6)) == []
    assert send_reminders().sent == 0


def test_a_reminder_is_in_the_persons_language(smtp_server):
    team = make_team(leaders=5)
    english = team.leaders.order_by("pk")[0]
    english.language = Language.ENGLISH
    english.save()
    round_, _ = invited_round(team, smtp_server)

    start_due_reminders(now=round_.closes_at - datetime.timedelta(days=6))
    send_reminders()

    (mail_en,) = smtp_server.to(english.email)
    assert mail_en.subject == f"Reminder: what do you need from your chief? ({team.name})"
    assert 'lang="en"' in mail_en.html and "This is a reminder" in mail_en.text
    (mail_da,) = smtp_server.to(team.leaders.order_by("pk")[1].email)
    assert 'lang="da"' in mail_da.html and "Svar på undersøgelsen" in mail_da.html
    assert mail_da.message["Auto-Submitted"] == "auto-generated"
    assert [p.get_content_type() for p in mail_da.message.iter_parts()] == ["text/plain", "text/html"]


def test_a_reminder_not_yet_due_sends_nothing(smtp_server):
    team = make_team(leaders=5)
    round_, _ = invited_round(team, smtp_server)

    assert start_due_reminders(now=round_.closes_at - datetime.timedelta(days=8)) == []
    assert start_due_reminders() == []
    report = send_reminders()

    assert report.sent == 0 and smtp_server.received == []
    assert not ReminderBatch.objects.exists()


def test_only_the_latest_due_reminder_is_sent_when_an_earlier_one_was_missed(smtp_server):
    team = make_team(leaders=5)
    round_, _ = invited_round(team, smtp_server)

    (batch,) = start_due_reminders(now=round_.closes_at - datetime.timedelta(days=1))
    send_reminders()

    assert batch.number == 2
    assert list(ReminderBatch.objects.values_list("number", flat=True)) == [2]
    assert len(smtp_server.recipients()) == len(set(smtp_server.recipients())) == 6


def test_someone_who_answers_after_the_reminder_started_is_skipped(smtp_server):
    team = make_team(leaders=5)
    round_, tokens = invited_round(team, smtp_server)
    (batch,) = start_due_reminders(now=round_.closes_at - datetime.timedelta(days=6))
    late = team.leaders.order_by("pk")[0]
    answer_with(tokens[late.email], round_)

    report = send_reminders()

    assert late.email not in smtp_server.recipients()
    assert report.sent == 5
    batch.refresh_from_db()
    assert batch.done and batch.sent == 5


def test_nobody_is_reminded_who_was_never_invited_by_email(smtp_server):
    team = make_team(leaders=5)
    bouncing = team.leaders.order_by("pk")[0]
    bouncing.email = "bounce@kommune.example"
    bouncing.save()
    round_, _ = invited_round(team, smtp_server)

    start_due_reminders(now=round_.closes_at - datetime.timedelta(days=6))
    report = send_reminders()

    assert report.sent == 5 and report.failed == 0
    assert "bounce@kommune.example" not in smtp_server.recipients()


def test_a_crash_while_reminding_never_sends_anyone_two_copies(smtp_server, monkeypatch):
    team = make_team(leaders=8)
    round_, _ = invited_round(team, smtp_server)
    (batch,) = start_due_reminders(now=round_.closes_at - datetime.timedelta(days=6))
    crash_after(monkeypatch, 3)

    with pytest.raises(Crash):
        send_reminders()

    monkeypatch.undo()
    assert len(smtp_server.received) == 3
    report = send_reminders()

    # Nobody knows who else had it, so the rest of that reminder is not sent again.
    assert report.sent == 0 and report.reminders_interrupted == 1
    assert len(smtp_server.recipients()) == len(set(smtp_server.recipients())) == 3
    batch.refresh_from_db()
    assert not batch.done
    assert mail_status(rounds=[round_]).reminders[0].done is False
    # The next reminder reaches everyone who still has not answered, once.
    start_due_reminders(now=round_.closes_at - datetime.timedelta(days=1))
    assert send_reminders().sent == 9
    assert len(smtp_server.recipients()) == 3 + 9


def test_a_mail_server_that_goes_away_stops_the_reminder_and_counts_it_interrupted(smtp_server, monkeypatch):
    team = make_team(leaders=5)
    round_, _ = invited_round(team, smtp_server)
    (batch,) = start_due_reminders(now=round_.closes_at - datetime.timedelta(days=6))
    fail_on(monkeypatch, 3, smtplib.SMTPServerDisconnected("Connection unexpectedly closed"))

    report = send_reminders()

    assert report.sent == 2 and report.connection_error and report.reminders_interrupted == 1
    batch.refresh_from_db()
    assert batch.done and batch.interrupted and batch.sent == 2
    monkeypatch.undo()
    assert send_reminders().sent == 0  # at most once: not sent again


def test_a_refused_reminder_is_counted_not_named_and_leaves_the_earlier_link_working(smtp_server):
    team = make_team(leaders=5)
    round_, tokens = invited_round(team, smtp_server)
    refused = team.leaders.order_by("pk")[0]
    invitation_token = tokens[refused.email]
    refused.email = "bounce-later@kommune.example"  # the mailbox went away after the invitation
    refused.save()

    start_due_reminders(now=round_.closes_at - datetime.timedelta(days=6))
    report = send_reminders()

    assert report.sent == 5 and report.failed == 1
    assert report.failures == [] and report.interrupted == []  # who had not answered is never named
    status = mail_status(rounds=[round_])
    assert status.failed == [] and status.counts[MailStatus.SENT] == 6
    (reminders,) = status.reminders
    assert (reminders.sent, reminders.failed, reminders.done, reminders.interrupted) == (5, 1, True, False)
    assert works(invitation_token)


def test_a_reminder_writes_the_same_for_everyone_and_keeps_no_list_of_who_was_reminded(smtp_server):
    team = make_team(leaders=6)
    round_, tokens = invited_round(team, smtp_server)
    answered = team.leaders.order_by("pk")[:2]
    for person in answered:
        answer_with(tokens[person.email], round_)
    links_before = set(AnswerToken.objects.values_list("pk", flat=True))
    start_due_reminders(now=round_.closes_at - datetime.timedelta(days=6))
    send_reminders()

    # One new link for every invitation of the round, answered or not; no invitation row written.
    new_links = AnswerToken.objects.exclude(pk__in=links_before)
    assert sorted(new_links.values_list("invitation_id", flat=True)) == sorted(
        Invitation.objects.filter(round=round_).values_list("pk", flat=True)
    )
    assert {f.name for f in ReminderBatch._meta.concrete_fields} == {
        "id",
        "round",
        "number",
        "status",
        "sent",
        "failed",
        "interrupted",
        "manual",  # sent by hand or by the schedule: about the batch, never about a person
    }
    assert list(ReminderBatch.objects.values_list("number", "sent", "failed", "interrupted")) == [(1, 5, 0, False)]
    assert set(InvitationMail.objects.values_list("status", "error")) == {(MailStatus.SENT, "")}


# --- The command ------------------------------------------------------------------------------


def test_the_send_mail_command_sends_and_prints_a_summary(smtp_server):
    team = make_team(leaders=5)
    bouncing = team.leaders.order_by("pk")[0]
    bouncing.email = "bounce@kommune.example"
    bouncing.save()
    queued_round(team)

    out, err = run_command()

    assert "Invitations: 5 sent, 1 failed." in out
    assert "failed: bounce@kommune.example" in out and "550" in out
    assert "Reminders: 0 sent, 0 failed." in out
    assert "Invitations: 6 of 6" in err  # plain progress lines when not on a terminal
    assert len(smtp_server.received) == 5


def test_the_send_mail_command_fails_when_the_server_cannot_be_reached(no_smtp_server):
    queued_round(make_team(leaders=5))

    with pytest.raises(CommandError, match="could not be reached"):
        run_command()

    assert InvitationMail.objects.filter(status=MailStatus.PENDING).count() == 6


def test_someone_whose_language_the_organisation_does_not_offer_is_written_to_in_its_first(db):
    from gensidig.models import Organisation

    organisation = Organisation(slug="x", name="X", languages=["da"])
    assert organisation.language_for("en") == "da"
    assert organisation.language_for("da") == "da"
    assert Organisation(slug="y", name="Y", languages=["en", "da"]).language_for(None) == "en"
