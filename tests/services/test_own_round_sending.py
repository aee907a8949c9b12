"""A chief's own round goes out through the sender that already runs (`gensidig send-mail`):
its invitations, and the reminder sent by hand, reach the people over SMTP (issue 10, items 1 and 3)."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from gensidig.models import ReminderBatch, ReminderStatus
from gensidig.models.choices import Role
from gensidig.services.survey.links import AnswerLink
from gensidig.services.survey.own_round import open_own_round, remind_now

from .. import smtp
from ..factories import answer, answers_for, make_team

pytestmark = pytest.mark.django_db
smtp_server = smtp.smtp_server


def send_mail():
    call_command("send_mail", stdout=io.StringIO(), stderr=io.StringIO())


def test_the_sender_delivers_the_invitations_and_then_the_reminder_sent_by_hand_to_those_who_have_not_answered(
    smtp_server,
):
    team = make_team(leaders=4)
    round_ = open_own_round(
        team=team, closes_at=timezone.now() + datetime.timedelta(days=10), add=["ekstra@kommune.example"]
    )
    send_mail()
    invited = sorted([*team.leaders.values_list("email", flat=True), "ekstra@kommune.example", team.chief.email])
    assert sorted(smtp_server.recipients()) == invited

    first = smtp_server.to("ekstra@kommune.example")[0]
    answer(AnswerLink(person=None, role=Role.LEADER, token=first.token), answers_for(round_, Role.LEADER, 4))
    smtp_server.clear()

    batch = remind_now(round_=round_)
    send_mail()
    batch.refresh_from_db()
    assert batch.status == ReminderStatus.DONE and batch.sent == 5 and not batch.interrupted
    assert sorted(smtp_server.recipients()) == sorted(set(invited) - {"ekstra@kommune.example"})
    # Each reminder carries a new link that works.
    chief_reminder = smtp_server.to(team.chief.email)[0]
    assert chief_reminder.token != first.token
    answer(AnswerLink(person=None, role=Role.CHIEF, token=chief_reminder.token), answers_for(round_, Role.CHIEF, 3))

    # The next run sends nothing more: the manual reminder went once.
    smtp_server.clear()
    send_mail()
    assert smtp_server.received == []
    assert ReminderBatch.objects.filter(round=round_).count() == 1
