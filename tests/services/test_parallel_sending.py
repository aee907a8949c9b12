"""Several senders at once through one outbox, and a sender killed half-way: every invitation at most once.

The SMTP server is real (aiosmtpd); the senders are threads of this process, or a process of their
own that is killed with SIGKILL while the server holds one of its messages.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.utils import translation

from gensidig.models import AnswerToken, InvitationMail, MailStatus
from gensidig.models.choices import Language, Role
from gensidig.services.mail import outbox
from gensidig.services.mail.message import Letters, build_message
from gensidig.services.mail.outbox import mail_status, queue_invitations, send_invitations
from gensidig.services.survey.answering import usable_invitation
from gensidig.services.survey.tokens import hash_token, new_token

from .. import smtp
from ..factories import PersonFactory, make_team, start_round

smtp_server = smtp.smtp_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _own_data_folder(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def queued_teams(teams: int, leaders: int) -> list:
    rounds = [start_round(make_team(leaders=leaders))[0] for _ in range(teams)]
    queue_invitations(rounds=rounds)
    return rounds


def everyone_once_with_a_working_link(smtp_server, expected: int) -> None:
    recipients = smtp_server.recipients()
    assert len(recipients) == len(set(recipients)) == expected
    for received in smtp_server.received:
        assert usable_invitation(token_hash=hash_token(received.token)) is not None


# --- The letter a sender makes is the letter build_message makes ------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.LEADER, Role.CHIEF])
@pytest.mark.parametrize("language", [Language.DANISH, Language.ENGLISH])
@pytest.mark.parametrize("name", ["Åse <Ørsted> & Co", ""])
@pytest.mark.parametrize("reminder", [False, True])
def test_a_letter_says_exactly_what_build_message_says(role, language, name, reminder):
    first = make_team(leaders=1)
    second = make_team(leaders=1, organisation=first.organisation)
    second.name = 'R&D  <Øst> – "Børn" og Unge'  # escaped in HTML, spaces folded in the subject
    second.save()
    rounds = [start_round(first)[0], start_round(second)[0]]
    person = PersonFactory(organisation=first.organisation, email="aase@kommune.example", name=name, language=language)
    letters = Letters(reminder=reminder)
    for round_ in rounds * 2:  # the second time round from what was rendered the first
        token = new_token().token
        letter = letters.message(round_=round_, person=person, role=role, token=token)
        expected = build_message(round_=round_, person=person, role=role, token=token, reminder=reminder)
        assert (letter.subject, letter.body, letter.to) == (expected.subject, expected.body, expected.to)
        assert letter.alternatives == expected.alternatives
        assert letter.extra_headers == expected.extra_headers


@pytest.mark.django_db
@pytest.mark.parametrize(
    "team_name",
    [
        "Økonomi, Løn og Personale – Sekretariatet for Børne- og Ungdomsforvaltningen",  # folded, encoded
        "Economy, Payroll and Staff - the Secretariat of the Children and Youth Administration",  # folded
        "IT =?utf-8?q?drift?=",  # looks like an encoded word: must come back as typed
    ],
)
def test_a_letter_on_the_wire_reads_back_as_the_same_message(team_name):
    team = make_team(leaders=1)
    team.name = team_name
    team.save()
    round_, _links = start_round(team)
    person = PersonFactory(organisation=team.organisation, email="aase@kommune.example", name="Åse Ærø")
    token = new_token().token
    letter = Letters().message(round_=round_, person=person, role=Role.LEADER, token=token)

    wire = letter.message(policy=email.policy.SMTP).as_bytes()
    parsed = email.message_from_bytes(wire, policy=email.policy.default)

    assert parsed["To"] == person.email and parsed["Subject"] == letter.subject
    assert parsed["Auto-Submitted"] == "auto-generated" and parsed["Message-ID"] and parsed["Date"]
    assert parsed["From"] == str(
        email.message_from_bytes(
            bytes(
                build_message(round_=round_, person=person, role=Role.LEADER, token=token).message(
                    policy=email.policy.SMTP
                )
            )
        )["From"]
    )
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == letter.body
    assert parsed.get_body(("html",)).get_content().replace("\r\n", "\n") == letter.alternatives[0].content
    assert all(len(line) <= 78 for line in wire.split(b"\r\n"))
    # Anyone else asking for the message gets Django's own.
    assert letter.message()["To"] == person.email


# --- Several senders at once -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_several_senders_at_once_send_each_invitation_exactly_once(smtp_server, monkeypatch):
    monkeypatch.setattr(outbox, "BATCH", 4)  # many small batches: the senders interleave often
    rounds = queued_teams(teams=6, leaders=9)
    invitations = 6 * 10
    links_before = AnswerToken.objects.count()  # opening a round makes a printable link for each
    reports, errors = [], []

    def run(senders: int):
        try:
            reports.append(send_invitations(senders=senders))
        except Exception as error:  # pragma: no cover - shown by the assertion below
            errors.append(error)
        finally:
            connection.close()

    # Three runs at once (as three workers would), each with three senders of its own.
    runs = [threading.Thread(target=run, args=(3,)) for _ in range(3)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()

    assert not errors
    assert sum(report.sent for report in reports) == invitations
    # (A run may report as interrupted what another run was sending as it finished: the end state counts.)
    assert not any(report.failed or report.connection_error for report in reports)
    everyone_once_with_a_working_link(smtp_server, invitations)
    status = mail_status(rounds=rounds)
    assert status.counts == {
        MailStatus.PENDING: 0,
        MailStatus.SENDING: 0,
        MailStatus.SENT: invitations,
        MailStatus.FAILED: 0,
    }
    # One new link per message sent, and none left behind for a message never sent.
    assert AnswerToken.objects.count() - links_before == invitations


@pytest.mark.django_db(transaction=True)
def test_a_refused_address_among_several_senders_is_failed_once_and_the_rest_go(smtp_server, monkeypatch):
    monkeypatch.setattr(outbox, "BATCH", 3)
    rounds = queued_teams(teams=3, leaders=6)
    bounced = rounds[1].team.leaders.order_by("pk").first()
    bounced.email = "bounce@kommune.example"
    bounced.save()

    report = send_invitations(senders=4)

    assert report.sent == 20 and report.failed == 1
    assert [failure.email for failure in report.failures] == ["bounce@kommune.example"]
    everyone_once_with_a_working_link(smtp_server, 20)


@pytest.mark.django_db
def test_inside_a_transaction_one_sender_does_it_all(smtp_server):
    # The test's own transaction is not committed: other connections would not see the outbox.
    queued_teams(teams=2, leaders=30)

    report = send_invitations(senders=8)

    assert report.sent == 62
    everyone_once_with_a_working_link(smtp_server, 62)


# --- A sender killed half-way ------------------------------------------------------------------


class HoldingHandler(smtp.RecordingHandler):
    """Takes `take` messages, then holds every later one before answering, so the sender hangs in DATA."""

    def __init__(self, take: int):
        super().__init__()
        self.take = take
        self.holding = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if len(self.received) >= self.take and not getattr(self, "released", False):
            self.holding.set()
            while not getattr(self, "released", False):
                await asyncio.sleep(0.05)
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


def sender_process(port: int) -> subprocess.Popen:
    """`send_invitations` with two senders, in a process of its own, on the test database."""
    database = connection.settings_dict
    if connection.vendor == "postgresql":
        url = f"postgres://{database['USER'] or ''}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
    else:
        url = f"sqlite:///{database['NAME']}"
    env = dict(
        os.environ,
        DATABASE_URL=url,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(port),
        DJANGO_SETTINGS_MODULE="gensidig.settings",
    )
    code = "import django; django.setup(); from gensidig.services.mail.outbox import send_invitations; send_invitations(senders=2)"
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT, start_new_session=True)  # noqa: S603 - our own code


@pytest.mark.django_db(transaction=True)
def test_a_sender_killed_half_way_never_sends_anyone_two_copies(settings, monkeypatch):
    rounds = queued_teams(teams=4, leaders=29)  # 120 invitations: three batches of 50 at most
    invitations = 4 * 30
    # Batches of 50, 50 and 20: no set of whole batches makes 65, so when the 65th message is
    # taken some batch is half-sent, and its rows are neither marked SENT nor put back.
    handler = HoldingHandler(take=65)
    controller = Controller(handler, hostname="127.0.0.1", port=smtp.free_port())
    controller.start()
    try:
        process = sender_process(controller.port)
        try:
            assert handler.holding.wait(120), "the sender never got as far as the held message"
            time.sleep(0.2)  # both senders are now stuck in the middle of a batch
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)
        handler.released = True
        first = smtp.SmtpServer(handler, controller.port).recipients()
        assert len(first) == len(set(first)) == 65
        interrupted = InvitationMail.objects.filter(status=MailStatus.SENDING)
        caught = {mail.invitation.person.email for mail in interrupted.select_related("invitation__person")}
        # The process died before marking its last batches: what it sent from them is among these.
        assert caught and set(first) & caught

        settings.MAILERS = smtp.smtp_settings(controller.port)
        with translation.override("en"):
            report = send_invitations(senders=3)
    finally:
        controller.stop()

    everyone = smtp.SmtpServer(handler, controller.port).recipients()
    assert len(everyone) == len(set(everyone)), "someone got two copies"
    assert not caught & set(everyone[65:]), "an interrupted invitation was sent again by itself"
    assert report.sent == invitations - len(caught) - len(set(first) - caught)
    assert {mail.email for mail in report.interrupted} == caught
    status = mail_status(rounds=rounds)
    assert status.counts[MailStatus.PENDING] == 0 and status.counts[MailStatus.SENDING] == len(caught)
    assert status.counts[MailStatus.SENT] == invitations - len(caught)
