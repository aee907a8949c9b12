"""Writing many rows at once, for the close: COPY on PostgreSQL, executemany on SQLite.

Both are far cheaper than the ORM's bulk_create for tens of thousands of rows, which spends most of
its time building model objects and SQL. Values go in as the database stores them: JSON as text,
and no defaults are filled in for the columns named.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection


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
