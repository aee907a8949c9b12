"""Rows built in a thread while the previous batch is stored (gensidig/db/bulk.py)."""

import threading
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from gensidig.db.bulk import insert_while_building, keys_checked_per_statement
from gensidig.models import RateLimitHit

pytestmark = pytest.mark.django_db

COLUMNS = ("key", "at")


def batches(count: int, per_batch: int = 3, *, built: list | None = None):
    now = timezone.now()
    for number in range(count):
        if built is not None:
            built.append((number, threading.current_thread().name))
        yield [(RateLimitHit, COLUMNS, [(f"batch-{number}-{row}", now) for row in range(per_batch)])]


def test_every_batch_is_stored_in_the_order_built_and_built_off_the_inserting_thread():
    built = []
    insert_while_building(batches(7, built=built))
    assert list(RateLimitHit.objects.order_by("pk").values_list("key", flat=True)) == [
        f"batch-{number}-{row}" for number in range(7) for row in range(3)
    ]
    assert [number for number, _thread in built] == list(range(7))
    assert {thread for _number, thread in built} == {"gensidig-bulk-rows"}


def test_a_query_while_building_is_refused_and_stops_the_insert():
    def querying():
        yield from batches(2)
        RateLimitHit.objects.count()  # outside the transaction: must not run
        yield from batches(1)

    with pytest.raises(RuntimeError, match="done without the database"):
        insert_while_building(querying())
    assert RateLimitHit.objects.count() == 6  # the two batches handed over before the query


def test_an_error_while_building_reaches_the_caller():
    def failing():
        yield from batches(1)
        raise ValueError("a row that cannot be built")

    with pytest.raises(ValueError, match="cannot be built"):
        insert_while_building(failing())


def test_an_error_while_storing_stops_the_building():
    built = []
    now = timezone.now()

    def endless():
        number = 0
        while True:
            built.append(number)
            yield [(RateLimitHit, ("key", "no_such_column"), [(f"k{number}", now)])]
            number += 1

    with pytest.raises(Exception):  # noqa: B017 - the database's own error type, which differs by database
        insert_while_building(endless())
    settled = len(built)
    assert settled <= 3, "the builder stops once the insert fails, holding at most the next batches"
    assert not any(t.name == "gensidig-bulk-rows" for t in threading.enumerate())


def _dangling_comment(cursor) -> None:
    """A comment whose round does not exist: its foreign key refuses it, now or at commit."""
    cursor.execute(
        "INSERT INTO gensidig_comment (id, round_id, theme_key, text) VALUES (%s, -1, 'direction', 'x')",
        [uuid.uuid4()],
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's deferred keys; runs in the PostgreSQL pass")
def test_keys_are_checked_by_each_statement_inside_and_at_commit_again_after():
    with transaction.atomic():
        with (
            keys_checked_per_statement(),
            pytest.raises(IntegrityError),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            _dangling_comment(cursor)  # refused by the statement itself
        # Back to Django's deferred checks: the same row passes its statement, and only what a
        # commit checks refuses it.
        with transaction.atomic(), connection.cursor() as cursor:
            _dangling_comment(cursor)
            with pytest.raises(IntegrityError):
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            transaction.set_rollback(True)


@pytest.mark.django_db(transaction=True)
def test_keys_checked_per_statement_needs_a_transaction():
    if connection.vendor != "postgresql":
        with keys_checked_per_statement():
            pass  # nothing to change on SQLite
        return
    with pytest.raises(RuntimeError, match="needs a transaction"), keys_checked_per_statement():
        pass
