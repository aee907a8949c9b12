import pytest
from django.db import connection

from gensidig.models import Ballot, Comment, Invitation, RoundKey
from gensidig.models.choices import Role, Scale
from gensidig.services.survey.answering import InvitationUnusable
from gensidig.services.survey.closing import close_round
from gensidig.services.survey.questions import Answers, AnswersRejected, questions_for

from ..counters import comments, counts, total
from ..factories import answer, answers_for, chief_link, leader_links, start_round

pytestmark = pytest.mark.django_db


def test_a_leader_submission_adds_one_to_each_value_given_and_nothing_else(team):
    round_, links = start_round(team)
    given = answers_for(round_, Role.LEADER, lambda key, scale: 5 if scale == Scale.IMPORTANCE else 2)
    answer(leader_links(links)[0], given)

    assert counts(round_, Role.LEADER, "direction.translate-politics", Scale.IMPORTANCE) == {
        0: 0,
        1: 0,
        2: 0,
        3: 0,
        4: 0,
        5: 1,
    }
    assert counts(round_, Role.LEADER, "direction.translate-politics", Scale.EXPERIENCE)[2] == 1
    assert total(round_) == len(questions_for(instrument=round_.instrument, role=Role.LEADER))
    assert total(round_, role=Role.CHIEF) == 0


def test_dont_know_is_counted_apart_from_the_scale(team):
    round_, links = start_round(team)
    answer(leader_links(links)[0], answers_for(round_, Role.LEADER, 0))
    assert counts(round_, Role.LEADER, "sparring.easy-to-reach", Scale.EXPERIENCE)[0] == 1


def test_the_chief_answers_their_own_scales(team):
    round_, links = start_round(team)
    answer(chief_link(links), answers_for(round_, Role.CHIEF, 3))
    assert counts(round_, Role.CHIEF, "autonomy.clear-mandate", Scale.EXPERIENCE)[3] == 1
    assert counts(round_, Role.CHIEF, "autonomy.respect-frame", Scale.IMPORTANCE)[3] == 1
    assert counts(round_, Role.CHIEF, "autonomy.respect-frame", Scale.FULFILMENT)[3] == 1


def test_a_link_can_be_used_only_once(team):
    round_, links = start_round(team)
    link = leader_links(links)[0]
    answer(link, answers_for(round_, Role.LEADER))
    with pytest.raises(InvitationUnusable):
        answer(link, answers_for(round_, Role.LEADER))
    assert Invitation.objects.get(round=round_, person=link.person).used


def test_a_closed_round_takes_no_answers(team):
    round_, links = start_round(team)
    close_round(round_=round_)
    with pytest.raises(InvitationUnusable):
        answer(leader_links(links)[0], answers_for(round_, Role.LEADER))


@pytest.mark.parametrize(
    "spoil",
    [
        lambda r: {**r, next(iter(r)): 6},
        lambda r: {**r, next(iter(r)): -1},
        lambda r: dict(list(r.items())[1:]),
        lambda r: {**r, ("direction.no-such-item", Scale.IMPORTANCE): 3},
    ],
    ids=["above-scale", "below-scale", "one-missing", "unknown-item"],
)
def test_answers_that_do_not_fit_are_refused_and_nothing_is_stored(team, spoil):
    round_, links = start_round(team)
    good = answers_for(round_, Role.LEADER)
    with pytest.raises(AnswersRejected):
        answer(leader_links(links)[0], Answers(ratings=spoil(good.ratings), comments={}))
    assert total(round_) == 0
    assert not Invitation.objects.filter(round=round_, used=True).exists()


def test_a_chief_cannot_leave_comments(team):
    round_, links = start_round(team)
    with pytest.raises(AnswersRejected):
        answer(chief_link(links), answers_for(round_, Role.CHIEF, comments={"direction": "Hej"}))


def test_comments_are_cleaned_and_kept_apart_by_theme(team):
    round_, links = start_round(team)
    answer(
        leader_links(links)[0],
        answers_for(round_, Role.LEADER, comments={"direction": "  Mere\x00 retning, tak\u200b  ", "sparring": "   "}),
    )
    assert comments(round_) == [("direction", "Mere retning, tak")]
    close_round(round_=round_)
    comment = Comment.objects.get(round=round_)
    assert comment.theme_key == "direction"
    assert comment.text == "Mere retning, tak"


def test_an_overlong_comment_is_refused(team):
    round_, links = start_round(team)
    with pytest.raises(AnswersRejected):
        answer(leader_links(links)[0], answers_for(round_, Role.LEADER, comments={"direction": "x" * 2001}))


@pytest.mark.django_db
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="psycopg's prepared statements; runs in the PostgreSQL pass"
)
def test_on_postgresql_a_submissions_statements_are_prepared_once_per_connection_and_nothing_else(team):
    round_, links = start_round(team)
    for link in leader_links(links)[:3]:
        answer(link, answers_for(round_, Role.LEADER, 4))
    list(Invitation.objects.filter(round=round_))  # an ORM query, run often, is never prepared
    for _ in range(6):
        list(Invitation.objects.filter(round=round_))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    ballot, key = Ballot._meta.db_table, RoundKey._meta.db_table
    assert sorted(
        "claim and ballot" if ballot in sql else "ticket" if key in sql else "locks" if "advisory" in sql else sql
        for sql in prepared
    ) == ["claim and ballot", "locks", "ticket"]
