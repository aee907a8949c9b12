"""Told when it matters (issue 10, item 4): a shared report's e-mail, and sign-in links that land on it."""

import datetime
import io
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gensidig.models import MailStatus, Person, ReportNotice, Round, SignInLink, SignInRequest, User
from gensidig.models.choices import Role
from gensidig.services.mail.shared_report import (
    LINK_LIFETIME,
    leaders_to_tell,
    send_report_notices,
    shared_report_message,
)
from gensidig.services.signin import LINKS_PER_LIFETIME, new_link, safe_next, send_sign_in_links, user_for_email

from .. import smtp
from ..factories import closed_round, make_team

pytestmark = pytest.mark.django_db
smtp_server = smtp.smtp_server
LINK = re.compile(r"(/login/link/[A-Za-z0-9_\-]{43}/\?next=[^\s\"<]+)")


def shared(round_):
    Round.objects.filter(pk=round_.pk).update(shared_on=timezone.localdate())
    round_.refresh_from_db()
    return round_


def link_path(text: str) -> str:
    (path,) = set(LINK.findall(text))
    return path.replace("&amp;", "&")


@pytest.mark.parametrize(
    "path",
    [
        "https://evil.example/",
        "//evil.example/team/x/",
        "/\\evil.example/",
        "\\\\evil.example",
        "team/x/",
        "/team/x/\r\nLocation: https://evil.example/",
        "",
        None,
        "javascript:alert(1)",
    ],
)
def test_a_sign_in_link_lands_only_on_a_path_of_this_site(path):
    assert safe_next(path) is None
    user = user_for_email(make_team(leaders=1).chief.email)
    with pytest.raises(ValueError):
        new_link(user=user, now=timezone.now(), next_path=path or "x")


def test_the_shared_reports_email_is_in_the_leaders_language_and_its_link_signs_in_on_the_team_report(client):
    team = make_team(leaders=6)
    team.organisation.languages = ["da", "en"]
    team.organisation.save()
    round_ = shared(closed_round(team, answering=5))
    leaders = leaders_to_tell(round_)
    assert len(leaders) == 6 and team.chief not in leaders
    english = leaders[0]
    Person.objects.filter(pk=english.pk).update(language="en")
    english.refresh_from_db()

    link, message = shared_report_message(round_=round_, person=english, now=timezone.now())
    assert message.to == [english.email]
    assert team.name in message.subject and "shared with you" in message.subject
    assert team.chief.name in message.body and "Read it here" in message.body
    assert link.expires_at > timezone.now() + LINK_LIFETIME - datetime.timedelta(minutes=1)
    assert '<html lang="en">' in message.alternatives[0][0] and message.body.startswith("Dear ")
    _, danish = shared_report_message(round_=round_, person=leaders[1], now=timezone.now())
    assert '<html lang="da">' in danish.alternatives[0][0] and not danish.body.startswith("Dear ")

    path = link_path(message.body)
    assert path == link_path(message.alternatives[0][0])
    assert client.get(path).status_code == 200  # opening it (a mail scanner does) uses nothing up
    response = client.post(path)
    assert response.status_code == 302
    assert response["Location"] == reverse("gensidig:team-report", args=[round_.public_id])
    assert client.get(response["Location"]).status_code == 200
    assert client.post(path).status_code == 404  # once only


def test_a_forged_next_on_a_real_link_still_lands_on_this_site(client):
    team = make_team(leaders=1)
    user = user_for_email(team.chief.email)
    _link, url = new_link(user=user, now=timezone.now())
    path = url[url.index("/login/") :]
    response = client.post(path + "?next=https://evil.example/")
    assert response.status_code == 302 and response["Location"] == reverse("gensidig:home")


def test_inactive_and_left_out_leaders_are_not_told(client):
    team = make_team(leaders=6)
    round_ = shared(closed_round(team, answering=5))
    gone = leaders_to_tell(round_)[0]
    Person.objects.filter(pk=gone.pk).update(active=False)
    assert gone not in leaders_to_tell(round_)
    assert all(p.invitations.filter(round=round_, role=Role.LEADER).exists() for p in leaders_to_tell(round_))


def test_a_notifications_long_link_does_not_use_up_the_sign_in_page_s_requests(smtp_server):
    team = make_team(leaders=6)
    round_ = shared(closed_round(team, answering=5))
    leader = leaders_to_tell(round_)[0]
    for _ in range(LINKS_PER_LIFETIME):
        shared_report_message(round_=round_, person=leader, now=timezone.now())
    SignInRequest.objects.create(email=leader.email, language="da")
    assert send_sign_in_links() == 1
    assert SignInLink.objects.filter(user__email=leader.email).count() == LINKS_PER_LIFETIME + 1


# --- Sharing queues the e-mails; the sender sends them --------------------------------------------


def share_as_chief(client, round_, share="yes"):
    client.force_login(User.objects.get(email=round_.team.chief.email))
    return client.post(reverse("gensidig:share", args=[round_.public_id]), {"share": share})


def send_mail():
    call_command("send_mail", stdout=io.StringIO(), stderr=io.StringIO())


def test_sharing_tells_each_invited_leader_once_by_the_sender_in_their_language_with_a_link_to_the_report(
    client, smtp_server
):
    team = make_team(leaders=7)
    team.organisation.languages = ["da", "en"]
    team.organisation.save()
    round_ = closed_round(team, answering=5)
    invited = leaders_to_tell(round_)
    english, gone = invited[0], invited[1]
    Person.objects.filter(pk=english.pk).update(language="en")
    Person.objects.filter(pk=gone.pk).update(active=False)

    assert share_as_chief(client, round_).status_code == 302
    assert smtp_server.received == []  # not sent while the chief waits: the sender sends it
    assert ReportNotice.objects.filter(round=round_).count() == 6
    send_mail()
    told = {p.email for p in invited} - {gone.email}
    assert sorted(smtp_server.recipients()) == sorted(told)  # answered or not, each once; not the chief
    (mail,) = smtp_server.to(english.email)
    assert mail.subject == f"The report of {team.name} is shared with you"
    assert '<html lang="en">' in mail.html
    assert set(ReportNotice.objects.filter(round=round_).values_list("status", flat=True)) == {MailStatus.SENT}

    leader = Client()
    path = link_path(mail.text)
    assert leader.get(path).status_code == 200
    response = leader.post(path)
    assert response["Location"] == reverse("gensidig:team-report", args=[round_.public_id])
    report = leader.get(response["Location"])
    assert report.status_code == 200 and team.name in report.content.decode()

    send_mail()
    assert len(smtp_server.received) == len(told)  # a second run sends nothing more


def test_stopping_the_sharing_before_the_sender_runs_sends_nothing(client, smtp_server):
    round_ = closed_round(make_team(leaders=6), answering=5)
    share_as_chief(client, round_)
    share_as_chief(client, round_, share="no")
    send_mail()
    assert smtp_server.received == []
    assert not ReportNotice.objects.exists()


def test_sharing_again_mails_nobody_twice_for_the_same_round(client, smtp_server):
    round_ = closed_round(make_team(leaders=6), answering=5)
    share_as_chief(client, round_)
    send_mail()
    assert len(smtp_server.received) == 6
    share_as_chief(client, round_, share="no")
    share_as_chief(client, round_)
    share_as_chief(client, round_)
    send_mail()
    assert len(smtp_server.received) == 6
    assert ReportNotice.objects.filter(round=round_).count() == 6


def test_a_mail_server_that_is_down_never_stops_the_sharing_and_the_emails_go_when_it_is_back(
    client, smtp_server, settings
):
    round_ = closed_round(make_team(leaders=6), answering=5)
    working = settings.MAILERS
    settings.MAILERS = smtp.smtp_settings(smtp.free_port())  # nothing listens there
    response = share_as_chief(client, round_)
    assert response.status_code == 302
    round_.refresh_from_db()
    assert round_.shared_on is not None
    report = send_report_notices()
    assert report.connection_error and report.remaining == 6 and report.sent == 0
    assert not SignInLink.objects.filter(expires_at__gt=timezone.now() + datetime.timedelta(days=1)).exists()
    settings.MAILERS = working
    assert send_report_notices().sent == 6
    assert len(smtp_server.received) == 6


def test_a_refused_address_is_marked_and_leaves_no_working_link_behind(client, smtp_server):
    round_ = closed_round(make_team(leaders=6), answering=5)
    bounced = leaders_to_tell(round_)[0]
    Person.objects.filter(pk=bounced.pk).update(email="bounce@kommune.example")
    share_as_chief(client, round_)
    report = send_report_notices()
    assert (report.sent, report.failed) == (5, 1)
    notice = ReportNotice.objects.get(person=bounced)
    assert notice.status == MailStatus.FAILED and "550" in notice.error
    assert not SignInLink.objects.filter(user__email="bounce@kommune.example").exists()
