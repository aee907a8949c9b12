"""A chief's own round, run from the browser (issue 10, item 1), and agreements that can be edited (item 5)."""

import datetime

import pytest
from django.utils import timezone

from gensidig.models import (
    Agreement,
    AgreementOwner,
    Campaign,
    CampaignStatus,
    InvitationMail,
    Person,
    ReminderBatch,
    TeamMembership,
)
from gensidig.models.choices import Role
from gensidig.services.agreements import AgreementRejected, edit_agreement, record_agreement
from gensidig.services.mail.reminders import start_due_reminders
from gensidig.services.survey.own_round import extend_round, open_own_round, plan_own_round, remind_now
from gensidig.services.survey.rounds import RoundError

from ..factories import closed_round, make_team, start_round

pytestmark = pytest.mark.django_db


def in_days(days):
    return timezone.now() + datetime.timedelta(days=days)


def test_the_plan_takes_the_org_charts_leaders_less_those_left_out_and_plus_those_added():
    team = make_team(leaders=4)
    members = list(team.leaders.order_by("pk"))
    plan = plan_own_round(
        team=team, add=["Ny.Leder@Kommune.example, anden@kommune.example"], leave_out=[members[0].email]
    )
    assert {m.pk for m in plan.members} == {m.pk for m in members[1:]}
    assert plan.added == ["ny.leder@kommune.example", "anden@kommune.example"]
    assert plan.leaders == 5 and not plan.under_k
    assert plan_own_round(team=team, leave_out=[m.email for m in members[:2]]).under_k


def test_a_bad_address_is_named_and_the_chief_cannot_invite_themself():
    team = make_team(leaders=4)
    with pytest.raises(RoundError, match="ikke-en-adresse"):
        plan_own_round(team=team, add=["ikke-en-adresse"])
    with pytest.raises(RoundError):
        plan_own_round(team=team, add=[team.chief.email.upper()])


def test_opening_invites_exactly_the_planned_leaders_and_the_chief_and_queues_their_emails():
    team = make_team(leaders=4)
    gone = team.leaders.first()
    round_ = open_own_round(team=team, closes_at=in_days(10), add=["extra@kommune.example"], leave_out=[gone.email])
    invited = {(i.person.email, i.role) for i in round_.invitations.select_related("person")}
    assert (team.chief.email, Role.CHIEF) in invited
    assert ("extra@kommune.example", Role.LEADER) in invited
    assert (gone.email, Role.LEADER) not in invited
    assert round_.leaders_invited == 4
    assert InvitationMail.objects.filter(invitation__round=round_).count() == 5
    extra = Person.objects.get(email="extra@kommune.example")
    assert not TeamMembership.objects.filter(person=extra).exists()  # for this round only, not the org chart


def test_an_inactive_person_is_not_invited_even_if_a_membership_is_left():
    team = make_team(leaders=4)
    Person.objects.filter(pk=team.leaders.first().pk).update(active=False)
    round_, _links = start_round(team)
    assert round_.leaders_invited == 3


def test_a_team_cannot_have_two_open_rounds_nor_one_beside_its_campaign():
    team = make_team(leaders=5)
    open_own_round(team=team, closes_at=in_days(10))
    with pytest.raises(RoundError, match=team.name):
        open_own_round(team=team, closes_at=in_days(10))
    other = make_team(leaders=5, organisation=team.organisation)
    Campaign.objects.create(
        organisation=team.organisation,
        name="Efterår",
        opens_on=timezone.localdate() + datetime.timedelta(days=3),
        closes_at=in_days(20),
        anonymity_threshold=5,
        status=CampaignStatus.SCHEDULED,
    )
    with pytest.raises(RoundError, match="Efterår"):
        open_own_round(team=other, closes_at=in_days(10))


def test_a_reminder_sent_by_hand_goes_to_the_sender_and_the_scheduled_ones_still_go_out():
    team = make_team(leaders=5)
    round_ = open_own_round(team=team, closes_at=in_days(10))
    InvitationMail.objects.filter(invitation__round=round_).update(status="sent")
    batch = remind_now(round_=round_)
    assert batch.manual and batch.number == 101 and batch.status == "pending"
    with pytest.raises(RoundError):
        remind_now(round_=round_)  # one on its way already
    ReminderBatch.objects.filter(pk=batch.pk).update(status="done")
    assert remind_now(round_=round_).number == 102
    started = start_due_reminders(now=round_.closes_at - datetime.timedelta(days=6))
    assert [b.number for b in started] == [1]  # the schedule is not skipped because of the hand-sent ones


def test_the_closing_time_can_only_be_moved_later():
    team = make_team(leaders=5)
    round_ = open_own_round(team=team, closes_at=in_days(10))
    with pytest.raises(RoundError):
        extend_round(round_=round_, closes_at=in_days(5))
    assert extend_round(round_=round_, closes_at=in_days(15)).closes_at > in_days(14)


def test_an_agreement_can_be_edited_with_the_same_checks_as_when_it_was_made():
    team = make_team(leaders=6)
    round_ = closed_round(team, answering=6)
    agreement = record_agreement(round_=round_, theme_key="direction", text="Første udgave", owner="team")
    leader = Person.objects.filter(invitations__round=round_, invitations__role=Role.LEADER).first()
    edited = edit_agreement(
        agreement=agreement,
        text="Chefen forklarer beslutningerne",
        owner=AgreementOwner.LEADER,
        owner_person=leader,
        item_keys=["direction.core-task"],
        due_on=datetime.date(2027, 3, 1),
    )
    stored = Agreement.objects.get(pk=edited.pk)
    assert (stored.text, stored.owner_person, stored.item_keys, stored.due_on, stored.theme_key) == (
        "Chefen forklarer beslutningerne",
        leader,
        ["direction.core-task"],
        datetime.date(2027, 3, 1),
        "direction",
    )
    with pytest.raises(AgreementRejected):
        edit_agreement(agreement=stored, text="x", owner="team", item_keys=["autonomy.room-to-act"])
    with pytest.raises(AgreementRejected):
        edit_agreement(agreement=stored, text="   ", owner="team")
