"""Writing many rows at once, for the close: COPY on PostgreSQL, executemany on SQLite.

Both are far cheaper than the ORM's bulk_create for tens of thousands of rows, which spends most of
its time building model objects and SQL. Values go in as the database stores them: JSON as text,
and no defaults are filled in for the columns named.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence

from django.db import connection

# One table's rows: (model, columns, rows), as insert_rows takes them.
TableRows = tuple[type, Sequence[str], Sequence[tuple]]


def insert_rows(model, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """Insert `rows` (tuples in the order of `columns`) into the model's table."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table, names = quote(model._meta.db_table), ", ".join(quote(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)  # noqa: S608


def without_queries():
    """In a thread that works beside a transaction: any query raises instead of running outside it.

    (A thread has a database connection of its own, which is not in the caller's transaction.)
    """

    def refuse(*_args, **_kwargs):
        raise RuntimeError("this work is done without the database: it runs beside the transaction")

    return connection.execute_wrapper(refuse)


class _Finished:
    """Put on the queue by the building thread when the batches are all built."""


def insert_while_building(batches: Iterable[Iterable[TableRows]]) -> None:
    """Insert every batch of rows, building the next batch in a thread while one is stored.

    On two cores the database stores one group of rows while Python builds the next, instead of
    each waiting for the other: at a close of 5,000 people the database's side of the inserts is
    about as long as the building. At most two batches are held at once. Building must not touch
    the database (the thread is outside the transaction): any query from it raises, and an error
    on either side stops both and is raised here.
    """
    ready: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand_over(item) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def build() -> None:
        try:
            with without_queries():
                for batch in batches:
                    if not hand_over(list(batch)):
                        return
            hand_over(_Finished)
        except BaseException as error:  # handed to the inserting thread, which raises it
            hand_over(error)

    builder = threading.Thread(target=build, name="gensidig-bulk-rows", daemon=True)
    builder.start()
    try:
        while (batch := ready.get()) is not _Finished:
            if isinstance(batch, BaseException):
                raise batch
            for model, columns, rows in batch:
                insert_rows(model, columns, rows)
    finally:
        stop.set()
        builder.join()


@contextlib.contextmanager
def keys_checked_per_statement() -> Iterator[None]:
    """Inside a transaction on PostgreSQL: check foreign keys at the end of each statement, not at commit.

    Django declares its foreign keys DEFERRABLE INITIALLY DEFERRED, so PostgreSQL checks every new
    row's references at commit: for a close's hundred thousand rows, seconds in which nothing
    else happens. Checked as each COPY ends, the same work is done while the close builds its
    next rows in another thread (`insert_while_building`). Afterwards the transaction goes back to
    Django's deferred checks, for whatever an enclosing transaction does next (not after an error:
    the transaction is then being rolled back). SQLite checks nothing here and is left alone.
    """
    if connection.vendor != "postgresql":
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("keys_checked_per_statement needs a transaction: outside one it would change nothing")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
