"""DESIGN.md section 2, rule 1 and 8: nothing stored links an answer to a person; submitting is all or nothing.

These tests look at the schema itself and at the database's own bookkeeping, so a change that
would quietly make answers traceable fails here.
"""

import threading
import uuid

import pytest
from django.db import connection, connections, models

from gensidig.models import Comment, Invitation, RatingCounter
from gensidig.models.choices import Role
from gensidig.services.survey import answering
from gensidig.services.survey.answering import InvitationUnusable

from .counters import counts, total
from .factories import answer, answers_for, leader_links, make_team, start_round

FORBIDDEN_NAME_PARTS = (
    "person",
    "invitation",
    "token",
    "user",
    "ip",
    "agent",
    "url",
    "email",
    "session",
    "time",
    "date",
    "created",
    "updated",
    "submitted",
)
ANSWER_MODELS = (RatingCounter, Comment)


def concrete_fields(model):
    return [field for field in model._meta.get_fields() if getattr(field, "concrete", False)]


@pytest.mark.parametrize("model", ANSWER_MODELS, ids=lambda m: m.__name__)
def test_answer_rows_have_no_column_that_could_point_at_a_person_or_a_moment(model):
    for field in concrete_fields(model):
        name = field.name.lower()
        assert not any(part in name.split("_") or name.startswith(part) for part in FORBIDDEN_NAME_PARTS), field
        assert not isinstance(field, models.DateField | models.TimeField | models.DurationField), field
        assert not isinstance(field, models.GenericIPAddressField), field


@pytest.mark.parametrize("model", ANSWER_MODELS, ids=lambda m: m.__name__)
def test_answer_rows_refer_only_to_the_round_and_the_question(model):
    related = {field.related_model for field in concrete_fields(model) if field.is_relation}
    assert related <= {answering.Round, answering.Instrument.items.rel.related_model}


def test_the_answer_models_have_exactly_the_expected_columns():
    # A new column on these tables must be a deliberate decision, reviewed against rule 1.
    assert {f.name for f in concrete_fields(RatingCounter)} == {
        "id",
        "round",
        "item",
        "role",
        "scale",
        "slot",  # the counter's fixed number within its instrument, the same for every round
        *RatingCounter.VALUE_FIELDS,
    }
    assert {f.name for f in concrete_fields(Comment)} == {"id", "round", "theme_key", "text"}


def test_comments_get_random_ids_not_a_sequence():
    assert isinstance(Comment._meta.pk, models.UUIDField)
    assert Comment._meta.pk.default is uuid.uuid4


def test_an_invitation_records_whether_it_was_used_but_never_when():
    fields = {f.name: f for f in concrete_fields(Invitation)}
    assert isinstance(fields["used"], models.BooleanField)
    assert not any(isinstance(f, models.DateField | models.TimeField) for f in fields.values())
    assert "token" not in fields  # only its hash
    assert {"token_hash"} <= set(fields)


@pytest.mark.django_db
def test_counter_slots_are_the_same_for_every_round_of_an_instrument(team):
    first, _ = start_round(team)
    second, _ = start_round(make_team(leaders=3))
    layout = lambda r: list(  # noqa: E731
        RatingCounter.objects.filter(round=r).order_by("slot").values_list("slot", "item_id", "role", "scale")
    )
    assert layout(first) == layout(second)
    assert [row[0] for row in layout(first)] == list(range(len(layout(first))))


@pytest.mark.django_db
def test_all_counters_of_a_round_exist_at_zero_as_soon_as_it_opens(team):
    round_, _links = start_round(team)
    counters = RatingCounter.objects.filter(round=round_)
    # 24 needs: leaders 2 scales + chief 1; 18 expectations: leaders 1 + chief 2; six values each.
    assert counters.count() == 24 * 3 + 18 * 3  # one row per question, a count per value
    assert total(round_) == 0


@pytest.mark.django_db
def test_a_submission_rewrites_every_counter_row_of_its_round_and_only_those(team, monkeypatch):
    round_, links = start_round(team)
    other_round, _ = start_round(make_team(leaders=3))
    rows_written = []
    original = answering._count
    monkeypatch.setattr(answering, "_count", lambda *args: rows_written.append(original(*args)) or rows_written[-1])
    answer(leader_links(links)[0], answers_for(round_, Role.LEADER))
    assert rows_written == [RatingCounter.objects.filter(round=round_).count()]
    assert total(other_round) == 0


@pytest.mark.django_db
def test_submitting_runs_a_fixed_handful_of_statements(team, django_assert_max_num_queries):
    round_, links = start_round(team)
    answer(leader_links(links)[0], answers_for(round_, Role.LEADER, comments={"direction": "a"}))
    # Lookup, transaction, 2 locks, counters, comments (read, delete, insert), invitation, commit.
    with django_assert_max_num_queries(12):
        answer(leader_links(links)[1], answers_for(round_, Role.LEADER, comments={"sparring": "b"}))


@pytest.mark.django_db
def test_comments_are_rewritten_in_random_id_order_after_each_submission(team):
    round_, links = start_round(team)
    for index, link in enumerate(leader_links(links)[:5]):
        answer(link, answers_for(round_, Role.LEADER, comments={"direction": f"comment {index}"}))
    with connection.cursor() as cursor:
        table = Comment._meta.db_table
        if connection.vendor == "sqlite":
            cursor.execute(f'SELECT id FROM "{table}" ORDER BY rowid')
        else:
            cursor.execute(f'SELECT id FROM "{table}" ORDER BY ctid')
        physical = [uuid.UUID(str(row[0])) for row in cursor.fetchall()]
    assert physical == sorted(physical), "storage order follows the random ids, not the order of answering"


@pytest.mark.django_db
@pytest.mark.postgres_only
def test_after_two_submissions_all_counter_rows_share_one_transaction_id(team):
    if connection.vendor != "postgresql":
        pytest.skip("xmin is a PostgreSQL system column; this runs in the PostgreSQL pass")
    round_, links = start_round(team)
    answer(leader_links(links)[0], answers_for(round_, Role.LEADER, comments={"direction": "første"}))
    answer(leader_links(links)[1], answers_for(round_, Role.LEADER, 2, comments={"sparring": "anden"}))
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT DISTINCT xmin::text FROM "{RatingCounter._meta.db_table}" WHERE round_id = %s',
            [round_.pk],
        )
        counter_xmins = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            f'SELECT DISTINCT xmin::text FROM "{Comment._meta.db_table}" WHERE round_id = %s',
            [round_.pk],
        )
        comment_xmins = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            f'SELECT DISTINCT xmin::text FROM "{Invitation._meta.db_table}" WHERE round_id = %s', [round_.pk]
        )
        invitation_xmins = {row[0] for row in cursor.fetchall()}
    assert len(counter_xmins) == 1
    assert comment_xmins == counter_xmins, "comments cannot be told apart by the transaction that wrote them"
    assert invitation_xmins == counter_xmins, "nor can the invitations, or the order in which people answered"


@pytest.mark.django_db
def test_a_database_error_half_way_stores_nothing_and_leaves_the_link_usable(team, monkeypatch):
    round_, links = start_round(team)
    link = leader_links(links)[0]

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(answering, "_rewrite_comments", fail)
    with pytest.raises(RuntimeError):
        answer(link, answers_for(round_, Role.LEADER, comments={"direction": "x"}))
    assert total(round_) == 0
    assert not Invitation.objects.get(round=round_, person=link.person).used
    monkeypatch.undo()
    answer(link, answers_for(round_, Role.LEADER))
    assert Invitation.objects.get(round=round_, person=link.person).used


def _in_threads(count, target):
    barrier = threading.Barrier(count)
    outcomes = []
    lock = threading.Lock()

    def run(index):
        try:
            barrier.wait(timeout=30)
            result = target(index)
        except Exception as error:
            result = error
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_submissions_of_one_link_are_counted_exactly_once():
    team = make_team(leaders=6)
    round_, links = start_round(team)
    link = leader_links(links)[0]
    given = answers_for(round_, Role.LEADER, 5)
    outcomes = _in_threads(20, lambda i: answer(link, given))
    successes = [o for o in outcomes if o is True]
    refused = [o for o in outcomes if isinstance(o, InvitationUnusable)]
    assert len(successes) == 1 and len(refused) == 19, outcomes
    per_question = len(given.ratings)
    assert total(round_) == per_question


@pytest.mark.django_db(transaction=True)
def test_sixteen_leaders_answering_at_once_lose_no_count_and_never_deadlock():
    team = make_team(leaders=16)
    round_, links = start_round(team)
    leaders = leader_links(links)
    outcomes = _in_threads(
        16, lambda i: answer(leaders[i], answers_for(round_, Role.LEADER, 1 + i % 5, comments={"teamwork": f"nr {i}"}))
    )
    errors = [o for o in outcomes if o is not True]
    assert not errors, errors
    per_leader = len(answers_for(round_, Role.LEADER).ratings)
    assert total(round_, role=Role.LEADER) == 16 * per_leader
    assert Invitation.objects.filter(round=round_, used=True).count() == 16
    assert Comment.objects.filter(round=round_).count() == 16
    assert counts(round_, Role.LEADER, "direction.core-task", "importance") == {0: 0, 1: 4, 2: 3, 3: 3, 4: 3, 5: 3}
