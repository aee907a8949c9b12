import datetime

import pytest
from django.utils import timezone

from gensidig.models import AnswerToken, Invitation, RoundSummary
from gensidig.models.choices import Role, RoundStatus
from gensidig.services.survey.answering import usable_invitation
from gensidig.services.survey.closing import close_due_rounds, close_round
from gensidig.services.survey.rounds import RoundError, raise_threshold, reissue_links
from gensidig.services.survey.tokens import hash_token

from ..factories import answer, answers_for, leader_links, make_team, start_round

pytestmark = pytest.mark.django_db


def test_opening_a_round_invites_the_chief_and_every_leader_with_a_link_each(team):
    round_, links = start_round(team)
    assert [link.role for link in links].count(Role.CHIEF) == 1
    assert len(leader_links(links)) == 8 == round_.leaders_invited
    assert round_.anonymity_threshold == 5 and round_.number == 1
    assert len({link.token for link in links}) == 9
    assert all(len(link.token) == 43 for link in links)  # 256 random bits
    stored = set(AnswerToken.objects.filter(invitation__round=round_).values_list("token_hash", flat=True))
    assert stored == {hash_token(link.token) for link in links}
    assert not any(link.token in stored for link in links)


def test_the_threshold_is_fixed_when_the_round_opens_and_can_only_be_raised(team):
    round_, _ = start_round(team)
    team.organisation.anonymity_threshold = 3
    team.organisation.save()
    round_.refresh_from_db()
    assert round_.anonymity_threshold == 5
    with pytest.raises(RoundError):
        raise_threshold(round_=round_, threshold=4)
    assert raise_threshold(round_=round_, threshold=6).anonymity_threshold == 6


def test_a_round_cannot_be_opened_below_the_organisations_threshold():
    team = make_team(leaders=4, threshold=4)
    with pytest.raises(RoundError):
        start_round(team, threshold=3)
    assert start_round(team).__getitem__(0).anonymity_threshold == 4


def test_one_open_round_at_a_time_and_numbers_follow_on(team):
    first, _ = start_round(team)
    with pytest.raises(RoundError):
        start_round(team)
    close_round(round_=first)
    second, _ = start_round(team)
    assert second.number == 2


def test_closing_computes_the_figures_once(team):
    round_, links = start_round(team)
    for link in leader_links(links)[:5]:
        answer(link, answers_for(round_, Role.LEADER, 4))
    closed = close_round(round_=round_)
    assert closed.status == RoundStatus.CLOSED and closed.closed_on == timezone.localdate()
    assert RoundSummary.objects.get(round=round_).leader_responses == 5
    again = close_round(round_=closed)
    assert RoundSummary.objects.filter(round=again).count() == 1


def test_rounds_past_their_closing_time_close_and_their_links_stop_working(team):
    round_, _links = start_round(team, days=1)
    later = timezone.now() + datetime.timedelta(days=2)
    assert round_.is_due_to_close(later) and not round_.accepts_answers(later)
    assert [r.pk for r in close_due_rounds(now=later)] == [round_.pk]


def test_new_links_go_to_those_who_have_not_answered_and_the_old_ones_keep_working(team):
    round_, links = start_round(team)
    answered = leader_links(links)[0]
    answer(answered, answers_for(round_, Role.LEADER))
    fresh = reissue_links(round_=round_)
    assert answered.person not in {link.person for link in fresh}
    assert len(fresh) == 8  # seven leaders and the chief
    for link in [*fresh, *(link for link in links if link is not answered)]:
        assert usable_invitation(token_hash=hash_token(link.token)).person == link.person
    assert usable_invitation(token_hash=hash_token(answered.token)) is None


def test_new_links_are_made_for_every_invitation_so_the_rows_written_name_nobody(team):
    round_, links = start_round(team)
    answer(leader_links(links)[0], answers_for(round_, Role.LEADER))
    before = set(AnswerToken.objects.values_list("pk", flat=True))
    reissue_links(round_=round_)
    new = AnswerToken.objects.exclude(pk__in=before)
    # One new row per invitation, answered or not: the writes do not tell who has not answered.
    assert sorted(new.values_list("invitation_id", flat=True)) == sorted(
        Invitation.objects.filter(round=round_).values_list("pk", flat=True)
    )


def test_a_team_without_leaders_cannot_open_a_round():
    with pytest.raises(RoundError):
        start_round(make_team(leaders=0))
