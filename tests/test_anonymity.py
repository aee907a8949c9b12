"""DESIGN.md section 2, rules 1 and 8: what is stored cannot be traced to a person; submitting is all or nothing.

These tests look at the schema and at what one submission writes, so a change that would quietly
make answers traceable fails here. The attacks on the database files, the write-ahead log and the
logs themselves are in tests/attacks/.
"""

import threading
import uuid

import pytest
from django.db import DatabaseError, OperationalError, connection, connections, models

from gensidig.models import AnswerToken, Ballot, Comment, Invitation, RatingCounter, RoundKey
from gensidig.models.choices import Role
from gensidig.services.survey import answering
from gensidig.services.survey.answering import InvitationUnusable
from gensidig.services.survey.closing import close_round
from gensidig.services.survey.tokens import hash_token

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
ANSWER_MODELS = (RatingCounter, Comment, Ballot)


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
    assert {f.name for f in concrete_fields(Ballot)} == {"id", "round", "sealed"}
    assert {f.name for f in concrete_fields(RoundKey)} == {
        "id",
        "round",
        "public_key",
        "wrapped_private_key",
        "master_key_id",
    }


@pytest.mark.parametrize("model", (Comment, Ballot), ids=lambda m: m.__name__)
def test_comments_and_ballots_get_random_ids_not_a_sequence(model):
    assert isinstance(model._meta.pk, models.UUIDField)
    assert model._meta.pk.default is uuid.uuid4


def test_an_invitation_records_whether_it_was_used_but_never_when_nor_its_links():
    fields = {f.name: f for f in concrete_fields(Invitation)}
    assert set(fields) == {"id", "round", "person", "role", "used"}
    assert isinstance(fields["used"], models.BooleanField)
    # Links live apart, as hashes, so sending a new one never rewrites the invitation.
    assert {f.name for f in concrete_fields(AnswerToken)} == {"id", "invitation", "token_hash"}


@pytest.mark.django_db
def test_while_a_round_is_open_it_has_no_counter_and_no_comment_only_ballots(team):
    round_, links = start_round(team)
    for index, link in enumerate(leader_links(links)[:3]):
        answer(link, answers_for(round_, Role.LEADER, comments={"direction": f"kommentar {index}"}))
    assert not RatingCounter.objects.filter(round=round_).exists()
    assert not Comment.objects.filter(round=round_).exists()
    assert Ballot.objects.filter(round=round_).count() == 3
    # What they hold is there all the same, for whoever has the master key (closing).
    assert total(round_, role=Role.LEADER) == 3 * len(answers_for(round_, Role.LEADER).ratings)


@pytest.mark.django_db
def test_every_ballot_of_a_round_has_the_same_size_whatever_was_written(team):
    round_, links = start_round(team)
    leaders = leader_links(links)
    answer(leaders[0], answers_for(round_, Role.LEADER, 1))
    answer(leaders[1], answers_for(round_, Role.LEADER, 5, comments={t: "æ" * 2000 for t in ("direction", "sparring")}))
    answer(leaders[2], answers_for(round_, Role.LEADER, 3, comments={"teamwork": "🙂" * 1000}))
    sizes = {len(bytes(sealed)) for sealed in Ballot.objects.filter(round=round_).values_list("sealed", flat=True)}
    assert len(sizes) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("failure", ["raised before the ballot is written", "the ballot's row refused by the database"])
def test_unwatched_a_failure_after_the_claim_stores_nothing_and_leaves_the_link_usable(monkeypatch, failure):
    # No execute wrapper and no query log: the statements take the short way (on SQLite straight
    # to sqlite3, on PostgreSQL one pipeline), which must roll back as the long way does.
    team = make_team(leaders=6)
    round_, links = start_round(team)
    link = leader_links(links)[0]
    real_parameters = answering._ballot_parameters

    def broken_parameters(round_id, sealed):
        if failure.startswith("raised"):
            raise RuntimeError("the process is stopped")
        return real_parameters(None, sealed)  # round_id may not be NULL

    monkeypatch.setattr(answering, "_ballot_parameters", broken_parameters)
    with pytest.raises((RuntimeError, DatabaseError)):
        answer(link, answers_for(round_, Role.LEADER, comments={"direction": "x"}))
    monkeypatch.setattr(answering, "_ballot_parameters", real_parameters)
    assert not Ballot.objects.filter(round=round_).exists()
    assert not Invitation.objects.get(round=round_, person=link.person).used
    answer(link, answers_for(round_, Role.LEADER))
    assert Invitation.objects.get(round=round_, person=link.person).used
    assert Ballot.objects.filter(round=round_).count() == 1


def _statement_of(logged: str) -> str:
    """The SQL of a logged query; Django logs a prepared statement as "QUERY = '<sql>' - PARAMS = (...)"."""
    if logged.startswith("QUERY = '"):
        return logged[len("QUERY = '") : logged.index("' - PARAMS = ")]
    return logged


@pytest.mark.django_db
def test_submitting_writes_one_ballot_and_one_flag_in_a_handful_of_statements(team, django_assert_max_num_queries):
    round_, links = start_round(team)
    answer(leader_links(links)[0], answers_for(round_, Role.LEADER, comments={"direction": "a"}))
    # Ticket lookup (token, then invitation), transaction, then on SQLite the claim and the
    # ballot, on PostgreSQL the locks and one statement that claims and stores the ballot, commit.
    with django_assert_max_num_queries(6) as queries:
        answer(leader_links(links)[1], answers_for(round_, Role.LEADER, comments={"sparring": "b"}))
    statements = [_statement_of(q["sql"]) for q in queries.captured_queries]
    writes = [sql for sql in statements if sql.lstrip().startswith(("UPDATE", "INSERT", "WITH"))]
    if connection.vendor == "postgresql":
        assert len(writes) == 1 and Invitation._meta.db_table in writes[0] and Ballot._meta.db_table in writes[0]
        # The 24 KB ballot travels beside the statement, not inside its text as 49 KB of hex.
        assert len(writes[0]) < 2000
    else:
        assert len(writes) == 2


@pytest.mark.django_db
def test_a_database_error_once_the_claim_and_the_ballot_are_written_stores_nothing_and_leaves_the_link_usable(team):
    round_, links = start_round(team)
    link = leader_links(links)[0]

    def fail_after_the_ballot(execute, sql, params, many, context):
        # The statement that writes the ballot runs (on PostgreSQL it also claims), then the
        # connection "fails" before the commit.
        result = execute(sql, params, many, context)
        if sql.lstrip().startswith(("INSERT", "WITH")) and Ballot._meta.db_table in sql:
            raise OperationalError("the server closed the connection")
        return result

    with connection.execute_wrapper(fail_after_the_ballot), pytest.raises(OperationalError):
        answer(link, answers_for(round_, Role.LEADER, comments={"direction": "x"}))
    assert not Ballot.objects.filter(round=round_).exists()
    assert not Invitation.objects.get(round=round_, person=link.person).used
    answer(link, answers_for(round_, Role.LEADER))
    assert Invitation.objects.get(round=round_, person=link.person).used
    assert Ballot.objects.filter(round=round_).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("where", ["the client, before the commit is sent", "the server, in the claim"])
def test_outside_any_transaction_a_failure_in_the_submission_stores_nothing_and_leaves_the_link_usable(where):
    # The submission's own transaction (on PostgreSQL its statements and COMMIT go in one round
    # trip): a failure after the ballot was sent, on either side, must still roll it all back.
    team = make_team(leaders=6)
    round_, links = start_round(team)
    link = leader_links(links)[0]

    def fail(execute, sql, params, many, context):
        is_ballot = sql.lstrip().startswith(("INSERT", "WITH")) and Ballot._meta.db_table in sql
        if is_ballot and where.startswith("the server"):  # the ballot's INSERT fails where it runs
            sql = sql.replace(f"INSERT INTO {connection.ops.quote_name(Ballot._meta.db_table)}", "INSERT INTO nowhere")
        result = execute(sql, params, many, context)
        if is_ballot and where.startswith("the client"):
            raise OperationalError("the server closed the connection")
        return result

    with connection.execute_wrapper(fail), pytest.raises(DatabaseError):
        answer(link, answers_for(round_, Role.LEADER, comments={"direction": "x"}))
    assert not Ballot.objects.filter(round=round_).exists()
    assert not Invitation.objects.get(round=round_, person=link.person).used
    answer(link, answers_for(round_, Role.LEADER))
    assert Invitation.objects.get(round=round_, person=link.person).used
    assert Ballot.objects.filter(round=round_).count() == 1


@pytest.mark.django_db
def test_a_used_link_stores_no_second_ballot_even_with_a_ticket_read_before_it_was_used(team):
    round_, links = start_round(team)
    link = leader_links(links)[0]
    stale = answering.ticket_for(token_hash=hash_token(link.token))
    answer(link, answers_for(round_, Role.LEADER, 4))
    with pytest.raises(InvitationUnusable):
        answering.submit_answers(ticket=stale, answers=answers_for(round_, Role.LEADER, 2))
    assert Ballot.objects.filter(round=round_).count() == 1
    assert Invitation.objects.filter(round=round_, used=True).count() == 1


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
def test_twenty_simultaneous_submissions_of_one_link_store_exactly_one_ballot():
    team = make_team(leaders=6)
    round_, links = start_round(team)
    link = leader_links(links)[0]
    given = answers_for(round_, Role.LEADER, 5)
    outcomes = _in_threads(20, lambda i: answer(link, given))
    successes = [o for o in outcomes if o is True]
    refused = [o for o in outcomes if isinstance(o, InvitationUnusable)]
    assert len(successes) == 1 and len(refused) == 19, outcomes
    assert Ballot.objects.filter(round=round_).count() == 1
    assert total(round_) == len(given.ratings)


@pytest.mark.django_db(transaction=True)
def test_sixteen_leaders_answering_at_once_lose_nothing_and_never_deadlock():
    team = make_team(leaders=16)
    round_, links = start_round(team)
    leaders = leader_links(links)
    outcomes = _in_threads(
        16, lambda i: answer(leaders[i], answers_for(round_, Role.LEADER, 1 + i % 5, comments={"teamwork": f"nr {i}"}))
    )
    errors = [o for o in outcomes if o is not True]
    assert not errors, errors
    assert Ballot.objects.filter(round=round_).count() == 16
    assert Invitation.objects.filter(round=round_, used=True).count() == 16
    close_round(round_=round_)
    per_leader = len(answers_for(round_, Role.LEADER).ratings)
    assert total(round_, role=Role.LEADER) == 16 * per_leader
    assert Comment.objects.filter(round=round_).count() == 16
    assert counts(round_, Role.LEADER, "direction.core-task", "importance") == {0: 0, 1: 4, 2: 3, 3: 3, 4: 3, 5: 3}


@pytest.mark.django_db(transaction=True)
def test_a_submission_under_way_when_the_round_closes_is_either_counted_or_refused_never_lost():
    team = make_team(leaders=12)
    round_, links = start_round(team)
    leaders = leader_links(links)

    def act(index):
        if index == 0:
            return close_round(round_=round_)
        return answer(leaders[index], answers_for(round_, Role.LEADER, 4))

    outcomes = _in_threads(12, act)
    accepted = sum(1 for o in outcomes if o is True)
    assert all(o is True or isinstance(o, InvitationUnusable) or getattr(o, "pk", None) for o in outcomes), outcomes
    # Every accepted answer is in the counts, and no ballot is left behind uncounted.
    assert not Ballot.objects.filter(round=round_).exists()
    assert Invitation.objects.filter(round=round_, used=True).count() == accepted
    assert total(round_, role=Role.LEADER) == accepted * len(answers_for(round_, Role.LEADER).ratings)
    assert connection.vendor in ("sqlite", "postgresql")
