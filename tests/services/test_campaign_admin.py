"""HR's campaign work from the browser (issue 10): edit and delete a draft, a reminder now across a
campaign's rounds, and a chief's own round that a campaign leaves alone instead of colliding with it."""

import datetime

import pytest
from django.utils import timezone, translation

from gensidig.models import Campaign, CampaignStatus, Invitation, ReminderBatch, Round, Team
from gensidig.models.choices import Role, RoundStatus
from gensidig.services import campaigns as service
from gensidig.services.campaigns import CampaignError, LeftOut, create_campaign, launch_campaign, launch_due_campaigns
from gensidig.services.mail.outbox import send_invitations
from gensidig.services.mail.reminders import send_reminders
from gensidig.services.organisation.chart import apply_import, read_chart
from gensidig.services.survey.closing import close_campaign, close_round
from gensidig.services.survey.links import AnswerLink
from gensidig.services.survey.own_round import campaign_in_the_way, open_own_round, remind_now

from .. import smtp
from ..factories import answer, answers_for, make_team

pytestmark = pytest.mark.django_db
smtp_server = smtp.smtp_server

# A director; under them chiefs A (6 leaders), B (3 leaders: under k) and C (5 leaders).
CHART = [("director@k.dk", "Direktør", "", "Direktionen")]
CHART += [(f"{c}@k.dk", f"Chef {c}", "director@k.dk", f"Område {c}") for c in "abc"]
CHART += [(f"a{i}@k.dk", f"Leder a{i}", "a@k.dk", "Område A") for i in range(1, 7)]
CHART += [(f"b{i}@k.dk", f"Leder b{i}", "b@k.dk", "Område B") for i in range(1, 4)]
CHART += [(f"c{i}@k.dk", f"Leder c{i}", "c@k.dk", "Område C") for i in range(1, 6)]


@pytest.fixture(autouse=True)
def _own_data_folder(settings, tmp_path):
    settings.DATA_DIR = tmp_path  # the sender's note on the mail server


@pytest.fixture
def organisation():
    lines = ["email;name;manager_email;unit"] + [";".join(row) for row in CHART]
    chart = read_chart(data="\n".join(lines).encode(), filename="chart.csv")
    return apply_import(organisation_slug="kommune", organisation_name="Kommune", chart=chart).organisation


def team_of(organisation, chief_email):
    return Team.objects.get(organisation=organisation, chief__email=chief_email, active=True)


def in_days(days):
    return timezone.now() + datetime.timedelta(days=days)


def draft(organisation, *, opens_in=0, root_team=None):
    return create_campaign(
        organisation=organisation,
        name="Forår",
        root_team=root_team,
        opens_on=timezone.localdate() + datetime.timedelta(days=opens_in),
        closes_at=in_days(opens_in + 14),
    )


# --- Edit and delete ----------------------------------------------------------------------------


def test_a_draft_can_be_edited_with_the_same_checks_as_when_it_was_made(organisation):
    campaign = draft(organisation)
    branch = team_of(organisation, "a@k.dk")
    edited = service.edit_campaign(
        campaign=campaign,
        name="Efterår",
        root_team=branch,
        opens_on=timezone.localdate() + datetime.timedelta(days=2),
        closes_at=in_days(30),
    )
    campaign.refresh_from_db()
    assert (campaign.name, campaign.root_team, campaign.opens_on) == (
        "Efterår",
        branch,
        timezone.localdate() + datetime.timedelta(days=2),
    )
    assert edited.closes_at == campaign.closes_at and campaign.status == CampaignStatus.DRAFT

    with pytest.raises(CampaignError):  # closes before it opens
        service.edit_campaign(
            campaign=campaign, name="X", root_team=None, opens_on=timezone.localdate(), closes_at=in_days(-3)
        )
    elsewhere = make_team(leaders=5)
    with pytest.raises(CampaignError):  # a branch of another organisation
        service.edit_campaign(
            campaign=campaign, name="X", root_team=elsewhere, opens_on=timezone.localdate(), closes_at=in_days(9)
        )
    campaign.refresh_from_db()
    assert campaign.name == "Efterår" and campaign.root_team == branch


def test_only_a_draft_can_be_edited_and_a_scheduled_campaign_goes_back_to_draft_first(organisation):
    later = draft(organisation, opens_in=3)
    launch_campaign(campaign=later, excluded_team_ids={team_of(organisation, "b@k.dk").pk})
    later.refresh_from_db()
    assert later.status == CampaignStatus.SCHEDULED
    with translation.override("en"), pytest.raises(CampaignError, match="draft"):
        service.edit_campaign(
            campaign=later, name="X", root_team=None, opens_on=later.opens_on, closes_at=later.closes_at
        )
    service.withdraw_campaign(campaign=later)
    later.refresh_from_db()
    assert later.status == CampaignStatus.DRAFT and not later.excluded_teams.exists()
    assert (
        service.edit_campaign(
            campaign=later, name="Ny", root_team=None, opens_on=later.opens_on, closes_at=later.closes_at
        ).name
        == "Ny"
    )
    # Back in draft it does not open by itself on its day.
    assert launch_due_campaigns(now=in_days(4)) == []
    with pytest.raises(CampaignError):
        service.withdraw_campaign(campaign=later)  # a draft already

    now_open = draft(organisation)
    launch_campaign(campaign=now_open)
    with pytest.raises(CampaignError):
        service.edit_campaign(
            campaign=now_open, name="X", root_team=None, opens_on=now_open.opens_on, closes_at=now_open.closes_at
        )
    assert Campaign.objects.get(pk=now_open.pk).name == "Forår"


def test_only_a_campaign_that_has_sent_nothing_can_be_deleted(organisation):
    a_draft = draft(organisation)
    service.delete_campaign(campaign=a_draft)
    assert not Campaign.objects.filter(pk=a_draft.pk).exists()

    scheduled = draft(organisation, opens_in=3)
    launch_campaign(campaign=scheduled)
    service.delete_campaign(campaign=scheduled)
    assert not Campaign.objects.filter(pk=scheduled.pk).exists()
    assert launch_due_campaigns(now=in_days(4)) == []

    opened = draft(organisation)
    launch_campaign(campaign=opened)
    with pytest.raises(CampaignError):
        service.delete_campaign(campaign=opened)
    assert Round.objects.filter(campaign=opened).count() == 4


# --- A reminder now ---------------------------------------------------------------------------


def test_a_reminder_now_reaches_everyone_who_has_not_answered_in_every_round_under_one_number(
    organisation, smtp_server
):
    campaign = draft(organisation)
    rounds = launch_campaign(campaign=campaign)
    send_invitations(campaign=campaign)
    by_round = {}
    for received in smtp_server.received:
        invitation_round = next(r for r in rounds if r.team.name in received.subject)
        by_round.setdefault(invitation_round.pk, {})[received.to] = received.token
    c_round = next(r for r in rounds if r.team.chief.email == "c@k.dk")
    for address, token in by_round[c_round.pk].items():
        if address != "c@k.dk":  # every leader of C answers; their chief does not
            answer(AnswerLink(person=None, role=Role.LEADER, token=token), answers_for(c_round, Role.LEADER, 4))
    # Chief A has already sent one by hand in their own round of the campaign.
    a_round = next(r for r in rounds if r.team.chief.email == "a@k.dk")
    assert remind_now(round_=a_round).number == 101
    send_reminders()
    smtp_server.clear()

    batches = service.send_reminder_now(campaign=campaign)

    assert sorted(b.round_id for b in batches) == sorted(r.pk for r in rounds)
    assert {b.number for b in batches} == {102} and all(b.manual for b in batches)
    with pytest.raises(CampaignError):  # one on its way already
        service.send_reminder_now(campaign=campaign)
    report = send_reminders()
    recipients = smtp_server.recipients()
    unanswered = Invitation.objects.filter(round__campaign=campaign, used=False)
    assert report.sent == len(recipients) == unanswered.count() == 4 + 7 + 4 + 1
    assert not {f"c{i}@k.dk" for i in range(1, 6)} & set(recipients)
    assert "c@k.dk" in recipients
    # Counts only, kept per round; the page adds up one number.
    assert sum(b.sent for b in ReminderBatch.objects.filter(round__campaign=campaign, number=102)) == report.sent
    assert service.send_reminder_now(campaign=campaign)[0].number == 103  # once the last one has gone


def test_a_reminder_now_is_refused_for_a_campaign_that_is_not_open(organisation):
    campaign = draft(organisation)
    with pytest.raises(CampaignError):
        service.send_reminder_now(campaign=campaign)
    launch_campaign(campaign=campaign)
    close_campaign(campaign=campaign)
    with pytest.raises(CampaignError):
        service.send_reminder_now(campaign=campaign)
    assert not ReminderBatch.objects.exists()


# --- A chief's own round and a campaign ---------------------------------------------------------


def test_a_team_with_its_own_round_open_is_left_out_of_a_launched_campaign_and_keeps_its_round(organisation):
    c_team, b_team = team_of(organisation, "c@k.dk"), team_of(organisation, "b@k.dk")
    own = open_own_round(team=c_team, closes_at=in_days(10))
    campaign = draft(organisation)

    flagged = {t.team.pk: t for t in service.preview(organisation=organisation, root_team=None)}
    assert flagged[c_team.pk].has_open_round and flagged[c_team.pk].open_round_closes_at == own.closes_at
    assert not flagged[team_of(organisation, "a@k.dk").pk].has_open_round

    # Leaving it out by hand is allowed too, beside a small team; a team of k or more is not.
    with pytest.raises(CampaignError):
        launch_campaign(campaign=campaign, excluded_team_ids={team_of(organisation, "a@k.dk").pk})
    rounds = launch_campaign(campaign=campaign, excluded_team_ids={b_team.pk, c_team.pk})

    assert {r.team.chief.email for r in rounds} == {"director@k.dk", "a@k.dk"}
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.OPEN
    assert list(Round.objects.filter(team=c_team, status=RoundStatus.OPEN)) == [own]
    assert own.campaign_id is None
    for team in Team.objects.filter(organisation=organisation):
        assert Round.objects.filter(team=team, status=RoundStatus.OPEN).count() <= 1, team.name
    reasons = {item.team.pk: item for item in service.left_out_teams(campaign=campaign)}
    assert reasons[c_team.pk].reason == LeftOut.OWN_ROUND and reasons[c_team.pk].closes_at == own.closes_at
    assert reasons[b_team.pk].reason == LeftOut.SMALL
    # The chief is not held back by the campaign either: it leaves their team alone.
    assert campaign_in_the_way(c_team) is None


def test_the_launch_leaves_a_busy_team_out_without_being_told(organisation):
    c_team = team_of(organisation, "c@k.dk")
    own = open_own_round(team=c_team, closes_at=in_days(10))
    campaign = draft(organisation)
    rounds = launch_campaign(campaign=campaign)
    assert c_team.pk not in {r.team_id for r in rounds} and len(rounds) == 3
    assert c_team in Campaign.objects.get(pk=campaign.pk).excluded_teams.all()
    assert Round.objects.get(pk=own.pk).status == RoundStatus.OPEN


def test_a_scheduled_campaign_opens_on_its_day_around_a_team_whose_own_round_is_still_open(organisation):
    c_team, a_team = team_of(organisation, "c@k.dk"), team_of(organisation, "a@k.dk")
    own_c = open_own_round(team=c_team, closes_at=in_days(10))
    own_a = open_own_round(team=a_team, closes_at=in_days(2))
    campaign = draft(organisation, opens_in=3)
    assert launch_campaign(campaign=campaign) == []
    close_round(round_=own_a)  # A's own round is over by the opening day; C's is not

    (opened,) = launch_due_campaigns(now=in_days(3))

    assert opened.pk == campaign.pk and opened.status == CampaignStatus.OPEN
    joined = set(Round.objects.filter(campaign=campaign).values_list("team_id", flat=True))
    assert a_team.pk in joined and c_team.pk not in joined and len(joined) == 3
    assert list(Round.objects.filter(team=c_team, status=RoundStatus.OPEN)) == [own_c]
    left_out = service.left_out_teams(campaign=campaign)
    assert [(item.team, item.reason) for item in left_out] == [(c_team, LeftOut.OWN_ROUND)]


def test_a_team_without_leaders_is_left_out_and_named_for_that(organisation):
    b_team = team_of(organisation, "b@k.dk")
    b_team.leaders.update(active=False)
    campaign = draft(organisation)
    launch_campaign(campaign=campaign)
    reasons = {item.team.pk: item.reason for item in service.left_out_teams(campaign=campaign)}
    assert reasons == {b_team.pk: LeftOut.NO_LEADERS}
