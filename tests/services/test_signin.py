"""Sign-in links by e-mail: the form only queues, the sender e-mails known addresses, and nobody learns who is here."""

import datetime
import re
import smtplib

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.mail.backends.smtp import EmailBackend
from django.utils import timezone

from gensidig.models import SignInLink, SignInRequest
from gensidig.services import scheduled
from gensidig.services.signin import LINKS_PER_LIFETIME, send_sign_in_links, use_sign_in_link

from .. import smtp
from ..factories import make_team

pytestmark = pytest.mark.django_db
smtp_server = smtp.smtp_server
no_smtp_server = smtp.no_smtp_server
LINK = re.compile(r"/login/link/([A-Za-z0-9_\-]{43})/")
CSRF_VALUE = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


@pytest.fixture(autouse=True)
def _own_data_folder(settings, tmp_path):
    """The sender's note on the mail server lives in the data folder: each test has its own."""
    settings.DATA_DIR = tmp_path


def ask(client, email):
    return client.post("/login/link/", {"email": email})


def test_asking_for_a_link_queues_one_request_and_answers_the_same_for_known_and_unknown(client, team):
    known, unknown = ask(client, team.chief.email.upper()), ask(client, "nobody@nowhere.example")
    assert known.status_code == unknown.status_code == 200

    def page(response, address):  # the same page but for the address typed and the form's CSRF token
        return CSRF_VALUE.sub(b"", response.content.replace(address.encode(), b""))

    assert page(known, team.chief.email.upper()) == page(unknown, "nobody@nowhere.example")
    assert list(SignInRequest.objects.order_by("pk").values_list("email", flat=True)) == [
        team.chief.email.lower(),
        "nobody@nowhere.example",
    ]
    assert not SignInLink.objects.exists()  # nothing is decided, or sent, while the visitor waits


def test_the_sender_emails_a_link_to_a_known_address_only_and_forgets_every_request(client, team, smtp_server):
    ask(client, team.chief.email)
    ask(client, "nobody@nowhere.example")
    assert send_sign_in_links() == 1
    (received,) = smtp_server.received
    assert received.to == team.chief.email
    token = LINK.search(received.text).group(1)
    assert not SignInRequest.objects.exists()
    user = use_sign_in_link(token=token)
    assert user.email == team.chief.email
    assert use_sign_in_link(token=token) is None  # once


def test_a_flood_of_requests_sends_at_most_a_handful_of_links(client, team, smtp_server):
    for _ in range(LINKS_PER_LIFETIME + 4):
        ask(client, team.chief.email)
    assert send_sign_in_links() == LINKS_PER_LIFETIME
    assert len(smtp_server.received) == LINKS_PER_LIFETIME and not SignInRequest.objects.exists()


def test_without_a_mail_server_every_request_waits_the_page_says_so_and_the_links_go_once_it_is_back(
    client, smtp_server, settings
):
    team = make_team(leaders=5)
    leaders = [person.email for person in team.leaders.all()[:3]]
    settings.MAILERS = smtp.smtp_settings(smtp.free_port())  # the mail server is down
    for email in leaders[:2]:
        ask(client, email)
    assert send_sign_in_links() == 0
    assert SignInRequest.objects.count() == 2 and not SignInLink.objects.exists()  # nothing taken, nothing lost

    page = ask(client, leaders[2])  # someone asks while it is down: a clear page, not an error
    assert page.status_code == 200
    assert "E-mailen er forsinket" in page.content.decode()  # and the request waits with the others
    assert SignInRequest.objects.count() == 3

    settings.MAILERS = smtp.smtp_settings(smtp_server.port)  # back
    assert send_sign_in_links() == 3
    assert sorted(received.to for received in smtp_server.received) == sorted(leaders)
    assert not SignInRequest.objects.exists()
    assert "E-mailen er forsinket" not in ask(client, leaders[0]).content.decode()  # the page no longer says so


def test_a_server_that_takes_nothing_now_leaves_the_request_waiting_and_no_link_behind(
    client, team, smtp_server, monkeypatch
):
    original = EmailBackend.send_messages

    def not_now(self, messages):
        raise smtplib.SMTPDataError(421, b"4.3.2 Shutting down, try again later")

    ask(client, team.chief.email)
    monkeypatch.setattr(EmailBackend, "send_messages", not_now)
    assert send_sign_in_links() == 0
    assert SignInRequest.objects.count() == 1 and not SignInLink.objects.exists()
    monkeypatch.setattr(EmailBackend, "send_messages", original)
    assert send_sign_in_links() == 1 and smtp_server.received[0].to == team.chief.email


def test_with_nothing_waiting_the_sender_does_not_contact_the_mail_server(no_smtp_server, tmp_path):
    assert send_sign_in_links() == 0
    assert not (tmp_path / "mail-server-trouble.json").exists()


def test_the_daily_jobs_clear_expired_staff_sessions_and_sign_in_links_once_a_day(team):
    live, stale = SessionStore(), SessionStore()
    live["x"] = stale["x"] = 1
    live.create()
    stale.create()
    Session.objects.filter(session_key=stale.session_key).update(expire_date=timezone.now() - datetime.timedelta(1))
    user = team.chief.user
    SignInLink.objects.create(user=user, token_hash="a" * 64, expires_at=timezone.now() - datetime.timedelta(1))
    SignInLink.objects.create(user=user, token_hash="b" * 64, expires_at=timezone.now() + datetime.timedelta(1))
    now = [0.0]
    jobs = scheduled.DailyJobs(clock=lambda: now[0])

    assert jobs.run_if_due() == [
        "Cleared 1 expired session(s).",
        "Cleared 1 expired sign-in link(s).",
        "Cleared 0 uploaded org chart(s).",
    ]
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
    assert list(SignInLink.objects.values_list("token_hash", flat=True)) == ["b" * 64]
    now[0] += scheduled.DAY_SECONDS - 1
    assert jobs.run_if_due() == []
    now[0] += 1
    assert len(jobs.run_if_due()) == 3
