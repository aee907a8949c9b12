"""The invitation e-mails counted per campaign and status by the database (CampaignMailCount, 0028).

The campaign page reads these kept counts instead of counting every e-mail. They must stay exact
through everything that changes an e-mail: queueing at launch, several senders claiming batches at
once, refusals, a crash half-way, re-queueing, reminders, bulk updates, a round deleted with its
e-mails, the close, and the campaign's own deletion. At every step the kept counts are compared
with a fresh count through the invitations.
"""

import datetime

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gensidig.models import InvitationMail, MailStatus, Person, Round, Team
from gensidig.models.mail import CampaignMailCount
from gensidig.services.campaigns import create_campaign, launch_campaign, send_reminder_now
from gensidig.services.mail.outbox import (
    campaign_mail_counts,
    mail_status,
    queue_invitations,
    resend_failed,
    resend_interrupted,
    send_invitations,
)
from gensidig.services.mail.reminders import send_reminders
from gensidig.services.organisation.chart import apply_import, read_chart
from gensidig.services.survey.closing import close_campaign
from gensidig.services.survey.rounds import open_round

from .. import smtp
from .test_mailing import Crash, crash_after

smtp_server = smtp.smtp_server

# A director; chief A leads 6 leaders, one of whom (a1) leads 5 more; chief C leads 5 leaders.
CHART = [("director@k.dk", "Direktør", "", "Direktionen")]
CHART += [(f"{c}@k.dk", f"Chef {c}", "director@k.dk", f"Område {c}") for c in "ac"]
CHART += [(f"a{i}@k.dk", f"Leder a{i}", "a@k.dk", "Område A") for i in range(1, 7)]
CHART += [(f"a1x{i}@k.dk", f"Leder a1x{i}", "a1@k.dk", "Område A1") for i in range(1, 6)]
CHART += [(f"c{i}@k.dk", f"Leder c{i}", "c@k.dk", "Område C") for i in range(1, 6)]


@pytest.fixture(autouse=True)
def _own_data_folder(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def organisation():
    data = ("email;name;manager_email;unit\n" + "\n".join(";".join(row) for row in CHART)).encode()
    return apply_import(
        organisation_slug="kommune", organisation_name="Kommune", chart=read_chart(data=data, filename="chart.csv")
    ).organisation


def branch_campaign(organisation, chief_email: str):
    campaign = create_campaign(
        organisation=organisation,
        name=f"Forår {chief_email}",
        root_team=Team.objects.get(organisation=organisation, chief__email=chief_email, active=True),
        opens_on=timezone.localdate(),
        closes_at=timezone.now() + datetime.timedelta(days=14),
    )
    launch_campaign(campaign=campaign)
    return campaign


def fresh(campaign) -> dict[str, int]:
    """Counted the slow way, through the invitations and their rounds."""
    counts = dict.fromkeys(MailStatus.values, 0)
    found = InvitationMail.objects.filter(invitation__round__campaign=campaign).order_by().values_list("status")
    counts.update(dict(found.annotate(n=Count("pk"))))
    return counts


def reminder_sums(status) -> dict[tuple, list[int]]:
    sums: dict[tuple, list[int]] = {}
    for reminder in status.reminders:
        key = (reminder.number, reminder.manual, reminder.done, reminder.interrupted)
        total = sums.setdefault(key, [0, 0])
        total[0] += reminder.sent
        total[1] += reminder.failed
    return sums


def assert_exact(*campaigns):
    for campaign in campaigns:
        expected = fresh(campaign)
        assert campaign_mail_counts(campaign=campaign) == expected, campaign.name
        assert mail_status(campaign=campaign).counts == expected, campaign.name
        rounds = Round.objects.filter(campaign=campaign)
        by_rounds = mail_status(rounds=rounds)
        assert by_rounds.counts == expected, campaign.name
        # The reminders summed by the database for the campaign: the same sums as batch by batch.
        assert reminder_sums(mail_status(campaign=campaign)) == reminder_sums(by_rounds), campaign.name
    assert not CampaignMailCount.objects.filter(campaign__isnull=True).exists()
    assert not CampaignMailCount.objects.filter(slot__gte=8).exists()


@pytest.mark.django_db(transaction=True)
def test_the_kept_counts_match_a_fresh_count_through_a_campaigns_whole_life(smtp_server, monkeypatch):
    org = organisation()
    bouncing = Person.objects.get(organisation=org, email="a2@k.dk")
    bouncing.email = "bounce.a2@k.dk"
    bouncing.save()
    first, second = branch_campaign(org, "a@k.dk"), branch_campaign(org, "c@k.dk")
    # A chief's own round, outside any campaign: its e-mails are not counted for any campaign.
    own_team = Team.objects.get(organisation=org, chief__email="director@k.dk", active=True)
    own, _links = open_round(team=own_team, closes_at=timezone.now() + datetime.timedelta(days=14))
    queue_invitations(rounds=[own])
    assert_exact(first, second)
    assert fresh(first)[MailStatus.PENDING] == 13 and fresh(second)[MailStatus.PENDING] == 6

    crash_after(monkeypatch, 3)  # the sender dies half-way: its batch stays interrupted
    with pytest.raises(Crash):
        send_invitations(campaign=first, senders=1)
    monkeypatch.undo()
    assert_exact(first, second)
    assert fresh(first)[MailStatus.SENDING] > 0

    # Several senders claiming small batches at once, one address refused.
    monkeypatch.setattr("gensidig.services.mail.outbox.BATCH", 2)
    report = send_invitations(campaign=first, senders=4)
    assert report.failed == 1 and report.interrupted
    assert_exact(first, second)
    assert fresh(first)[MailStatus.FAILED] == 1

    send_reminder_now(campaign=first)  # reminders keep counts of their own, not on the e-mails
    send_reminders()
    assert_exact(first, second)
    assert reminder_sums(mail_status(campaign=first)) == {(101, True, True, False): [11, 0]}

    bouncing.email = "a2@k.dk"
    bouncing.save()
    rounds = Round.objects.filter(campaign=first)
    assert resend_failed(rounds=rounds) == 1
    assert_exact(first, second)
    assert resend_interrupted(rounds=rounds) > 0
    assert_exact(first, second)
    send_invitations(campaign=first, senders=4)
    assert_exact(first, second)
    assert fresh(first) == {MailStatus.PENDING: 0, MailStatus.SENDING: 0, MailStatus.SENT: 13, MailStatus.FAILED: 0}

    # A bulk update (as the demo makes), then a round deleted with its e-mails.
    send_invitations(campaign=second, limit=2, senders=1)
    assert_exact(first, second)
    InvitationMail.objects.filter(invitation__round__campaign=second, status=MailStatus.PENDING).update(
        status=MailStatus.SENT
    )
    assert_exact(first, second)
    Round.objects.filter(campaign=second).get().delete()
    assert_exact(first, second)
    assert fresh(second) == dict.fromkeys(MailStatus.values, 0)

    close_campaign(campaign=first)
    assert_exact(first, second)

    # The campaign deleted with its rounds: its counts go too, the other's stay.
    first_counts = fresh(first)
    second.delete()
    assert not CampaignMailCount.objects.filter(campaign_id=second.pk).exists()
    assert campaign_mail_counts(campaign=first) == first_counts == fresh(first)


@pytest.mark.django_db
def test_a_campaigns_counts_are_read_from_a_few_kept_rows(smtp_server):
    campaign = branch_campaign(organisation(), "a@k.dk")
    with CaptureQueriesContext(connection) as captured:
        status = mail_status(campaign=campaign)
    assert status.counts[MailStatus.PENDING] == 13
    mail_table = InvitationMail._meta.db_table
    # Nothing failed or was interrupted: the e-mails themselves are not read at all.
    assert not [q["sql"] for q in captured if mail_table in q["sql"]], captured.captured_queries
