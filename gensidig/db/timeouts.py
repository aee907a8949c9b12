"""The web's statement timeout, lifted for batch work that runs inside a serving process."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def unbounded_statements() -> Iterator[None]:
    """Run without the web's statement timeout (migrations at start-up may take long on a big database).

    PostgreSQL only: SQLite's bound is the wait for the write lock, which batch work shares fairly.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
    try:
        yield
    finally:
        # The connection goes back to what its settings say, for whatever runs next in this process.
        connection.close()
