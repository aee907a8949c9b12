"""Querysets compiled to SQL once per process, then run again with new values.

Every signed-in page asks the same few questions (who is this user, which organisations do they
administer, may they read this round), and building each question's SQL from a queryset costs
Django several times more than the database takes to answer it. A `Prepared` query is written as
an ordinary queryset, so its rule reads like every other rule in services/access.py; it is
compiled on first use with placeholder values, and later calls only put their own values where
the placeholders were. The rows become model instances (with what `select_related` joined) or
tuples exactly as Django's own iterators make them.

Only what a queryset passes through as a plain parameter can be a value here (a filter on a
field or a key), never a list, a model instance or anything Django rewrites. Should Django ever
compile a placeholder into something else, or compile a different statement, the first use fails
loudly (`PreparingFailed`) rather than ask the wrong question.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections, router, transaction
from django.db.models import QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable, _get_from_db, get_related_populators


class PreparingFailed(RuntimeError):
    """The queryset could not be compiled with its values as plain parameters."""


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple  # the compiled parameters, placeholders among them
    slots: dict[str, list[int]]  # for each value's name, where its placeholder stands in `params`
    compiler: Any  # Django's compiler, kept for its select list
    converters: dict  # what turns the database's values into Python's, by column
    fetch_mode: Any
    as_models: bool


_counter = itertools.count(1)


def _placeholder(kind: type) -> Any:
    # Values no real row or request has: a negative id, or text with NULs in it.
    number = next(_counter)
    if kind is int:
        return -(2**30) - number  # within every integer column's range, so compiled as is
    if kind is str:
        return f"\x00prepared-{number}\x00"
    raise PreparingFailed(f"a prepared value must be int or str, not {kind.__name__}")


class Prepared:
    """`build(**values)` gives a queryset of `model`; `rows(**values)` runs its compiled SQL.

    `values` names each value and its type, e.g. ``public_id=str, user_id=int``.
    """

    def __init__(self, model, build: Callable[..., QuerySet], **values: type):
        self.model = model
        self.build = build
        self.values = values
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    def _compile(self, alias: str) -> _Compiled:
        placeholders = {name: _placeholder(kind) for name, kind in self.values.items()}
        queryset = self.build(**placeholders)
        plain = queryset._iterable_class in (ModelIterable, ValuesListIterable)
        if not plain or queryset._prefetch_related_lookups or queryset._known_related_objects:
            raise PreparingFailed("only model rows (with select_related) or values_list() can be prepared")
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        if queryset._iterable_class is ModelIterable and compiler.annotation_col_map:
            raise PreparingFailed("annotations on model rows are not prepared")
        slots = {name: [i for i, param in enumerate(params) if param == value] for name, value in placeholders.items()}
        strays = [p for p in params if p not in placeholders.values() and "prepared-" in str(p)]
        if not all(slots.values()) or strays or "prepared-" in sql:
            raise PreparingFailed(f"a value was not compiled as a plain parameter: {sql!r} {params!r}")
        columns = [column[0] for column in compiler.select[0 : compiler.col_count]]
        if compiler.has_composite_fields(columns):
            raise PreparingFailed("composite keys are not prepared")
        return _Compiled(
            sql=sql,
            params=tuple(params),
            slots=slots,
            compiler=compiler,
            converters=compiler.get_converters(columns),
            fetch_mode=queryset._fetch_mode,
            as_models=queryset._iterable_class is ModelIterable,
        )

    def compiled(self, alias: str) -> _Compiled:
        key = (alias, connections[alias].vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(alias)
        return compiled

    def rows(self, **values) -> list:
        """Model instances or tuples, as the queryset itself would give them."""
        if values.keys() != self.values.keys():
            raise TypeError(f"expected the values {sorted(self.values)}, got {sorted(values)}")
        # Put in as they are, so each must already be what Django would have passed (no "5" for 5).
        for name, kind in self.values.items():
            if not isinstance(values[name], kind):
                raise TypeError(f"{name} must be {kind.__name__}, not {type(values[name]).__name__}")
        alias = router.db_for_read(self.model)
        compiled = self.compiled(alias)
        params = list(compiled.params)
        for name, positions in compiled.slots.items():
            for position in positions:
                params[position] = values[name]
        with connections[alias].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        if compiled.converters:
            fetched = compiled.compiler.apply_converters(fetched, compiled.converters)
        if not compiled.as_models:
            return [tuple(row) for row in fetched]
        return _as_models(compiled, fetched, alias)

    def first(self, **values):
        found = self.rows(**values)
        return found[0] if found else None


def _as_models(compiled: _Compiled, rows, alias: str) -> list:
    # What django.db.models.query.ModelIterable does with a compiler's rows.
    compiler = compiled.compiler
    select, klass_info = compiler.select, compiler.klass_info
    model_fields = klass_info["select_fields"]
    start, end = model_fields[0], model_fields[-1] + 1
    init_list = [column[0].target.attname for column in select[start:end]]
    from_db = _get_from_db(klass_info["model"], compiled.fetch_mode)
    populators = get_related_populators(klass_info, select, alias, compiled.fetch_mode)
    found = []
    for row in rows:
        instance = from_db(alias, init_list, row[start:end])
        for populator in populators:
            populator.populate(row, instance)
        found.append(instance)
    return found


# --- Inserting new rows one statement each, their ids read back ------------------------------


@functools.cache
def _insert_statement(model, alias: str, vendor: str) -> tuple[str, tuple, bool]:
    # The columns bulk_create would write for new rows: every concrete column but the generated id,
    # which comes back with RETURNING where the database has it (PostgreSQL, SQLite 3.35+).
    connection = connections[alias]
    fields = tuple(
        field for field in model._meta.concrete_fields if field is not model._meta.auto_field and not field.generated
    )
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608 - Django's names
    returning = connection.features.can_return_columns_from_insert
    if returning:
        sql += f" RETURNING {quote(model._meta.pk.column)}"
    return sql, fields, returning


def insert_instances(instances: list) -> None:
    """INSERT new rows of one model, the values prepared as bulk_create prepares them, and set
    their ids: one short statement a row.

    For a row written on every page view (the audit trail's), where building bulk_create's SQL
    cost more than the insert.
    """
    if not instances:
        return
    model = type(instances[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    sql, fields, returning = _insert_statement(model, alias, connection.vendor)
    # All rows or none, as bulk_create; one row needs no transaction of its own.
    together = transaction.atomic(using=alias, savepoint=False) if len(instances) > 1 else contextlib.nullcontext()
    with together, connection.cursor() as cursor:
        for obj in instances:
            cursor.execute(sql, [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields])
            if returning:
                obj.pk = cursor.fetchone()[0]
            else:
                obj.pk = connection.ops.last_insert_id(cursor, model._meta.db_table, model._meta.pk.column)
            obj._state.adding, obj._state.db = False, alias
