"""The campaign page's e-mail counts, read by each e-mail's own round (migration 0027).

mail_status counts by InvitationMail.round, a copy of the invitation's round kept so that the
counts come from one index without joining the invitations. These tests hold that copy to the
invitation's round, and the counts to a fresh count through the invitations, after sends,
refusals, a crash and re-queues.
"""

import importlib

import pytest
from django.apps import apps as current_apps
from django.db import connection
from django.db.models import Count, F
from django.test.utils import CaptureQueriesContext

from gensidig.models import InvitationMail, MailStatus
from gensidig.services.mail.outbox import mail_status, queue_invitations, resend_failed, resend_interrupted
from gensidig.services.mail.outbox import send_invitations as send

from .. import smtp
from ..factories import make_team, start_round
from .test_mailing import Crash, crash_after

pytestmark = pytest.mark.django_db
smtp_server = smtp.smtp_server


@pytest.fixture(autouse=True)
def _own_data_folder(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def fresh_counts(round_) -> dict[str, int]:
    """Counted the way the page did before 0027: through the invitations."""
    counts = dict.fromkeys(MailStatus.values, 0)
    found = InvitationMail.objects.filter(invitation__round=round_).values_list("status").annotate(n=Count("pk"))
    counts.update(dict(found.order_by()))
    return counts


def assert_matches(*rounds):
    assert not InvitationMail.objects.exclude(round_id=F("invitation__round_id")).exists()
    for round_ in rounds:
        assert mail_status(rounds=[round_]).counts == fresh_counts(round_), round_
    together = mail_status(rounds=list(rounds)).counts
    assert together == {s: sum(fresh_counts(r)[s] for r in rounds) for s in MailStatus.values}


def test_the_counts_match_a_fresh_count_through_sends_refusals_a_crash_and_re_queues(smtp_server, monkeypatch):
    first_team, second_team = make_team(leaders=6), make_team(leaders=4)
    bouncing = first_team.leaders.order_by("pk")[1]
    bouncing.email = "bounce.first@kommune.example"
    bouncing.save()
    first, _links = start_round(first_team)
    second, _links = start_round(second_team)

    assert queue_invitations(rounds=[first, second]) == 12
    assert_matches(first, second)
    assert mail_status(rounds=[first]).counts == {
        MailStatus.PENDING: 7,
        MailStatus.SENDING: 0,
        MailStatus.SENT: 0,
        MailStatus.FAILED: 0,
    }

    crash_after(monkeypatch, 3)  # the second round's row caught half-way stays interrupted
    with pytest.raises(Crash):
        send(rounds=[second])
    monkeypatch.undo()
    assert_matches(first, second)
    assert mail_status(rounds=[second]).counts[MailStatus.SENDING] == 1

    report = send()  # the first round: one refused
    assert report.failed == 1
    assert_matches(first, second)
    status = mail_status(rounds=[first])
    assert status.counts[MailStatus.FAILED] == 1 and [m.email for m in status.failed] == [bouncing.email]
    assert not status.interrupted and len(mail_status(rounds=[second]).interrupted) == 1

    bouncing.email = "fixed@kommune.example"
    bouncing.save()
    assert resend_failed(rounds=[first]) == 1
    assert resend_interrupted(rounds=[second]) == 1
    assert_matches(first, second)
    assert resend_failed(rounds=[second]) == 0  # by the e-mail's own round: nothing of the first's

    send()
    assert_matches(first, second)
    assert mail_status(rounds=[first, second]).counts == {
        MailStatus.PENDING: 0,
        MailStatus.SENDING: 0,
        MailStatus.SENT: 12,
        MailStatus.FAILED: 0,
    }


def test_the_counts_are_read_without_the_invitations(smtp_server):
    round_, _links = start_round(make_team(leaders=3))
    queue_invitations(rounds=[round_])
    with CaptureQueriesContext(connection) as captured:
        mail_status(rounds=[round_])
    counting = [q["sql"] for q in captured if "COUNT(" in q["sql"].upper()]
    assert len(counting) == 1 and "JOIN" not in counting[0].upper(), counting


def test_the_migration_copies_each_emails_round_from_its_invitation(smtp_server):
    """0027's fill, run again over rows whose copy is wrong, puts each back to its invitation's round."""
    first, _links = start_round(make_team(leaders=3))
    second, _links = start_round(make_team(leaders=2))
    queue_invitations(rounds=[first, second])
    InvitationMail.objects.update(round_id=first.pk)
    assert InvitationMail.objects.filter(invitation__round=second).exclude(round=second).count() == 3

    migration = importlib.import_module("gensidig.migrations.0027_invitation_mail_round")
    migration.fill_round(current_apps, None)

    assert_matches(first, second)
    assert InvitationMail.objects.filter(round=second).count() == 3
