"""Taking one person's answers: sealed into one ballot and stored with the claim of their invitation.

A submission is one short transaction of two writes (DESIGN.md 2.1 and 2.8):

1. the invitation is claimed by a conditional ``UPDATE … SET used = true WHERE id = … AND used =
   false`` that also checks the round is open -- no ``SELECT … FOR UPDATE``, which would leave a
   lock's transaction id in the new row version's ``xmax``;
2. one Ballot row is inserted: the whole set of answers and comments, padded to the round's
   fixed ballot size and sealed to the round's public key.

On PostgreSQL the two are one statement (a data-modifying WITH), and the transaction -- BEGIN,
the locks (below), that statement, COMMIT -- goes to the server as one pipeline: one round trip. Nothing else is written: no counter, no comment row, no
other invitation, not the round. The ballots are opened and counted when the round closes
(services.ballots.tally). Anything that fails rolls both writes back and leaves the link usable.

On PostgreSQL two advisory locks, which live in the lock manager's memory and never in a row or
the write-ahead log, order the few things that must not overlap: a submission holds its round's
(or campaign's) lock shared, so closing -- which takes it exclusively -- never misses a ballot
committed a moment later; and it holds its invitation's lock exclusively, so twenty simultaneous
submits of one link queue there instead of on the row, and the nineteen that come second find it
used without leaving a lock behind on it. SQLite runs one writer at a time (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import functools
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from gensidig.models import AnswerToken, Ballot, Instrument, Invitation, Round, RoundKey
from gensidig.models.choices import RoundStatus
from gensidig.services.ballots import sealing
from gensidig.services.survey.instruments import instrument_by_id
from gensidig.services.survey.questions import Answers, check_answers

__all__ = [
    "InvitationUnusable",
    "Ticket",
    "invitation_id_for",
    "submit_answers",
    "ticket_for",
    "usable_invitation",
]

# Advisory lock namespaces (the first key of PostgreSQL's two-key form); the second is an id.
LOCK_ROUND = 0x47530001
LOCK_CAMPAIGN = 0x47530002
LOCK_INVITATION = 0x47530003
INT4 = 2**31


class InvitationUnusable(Exception):
    """The link is unknown, used, or its round no longer accepts answers."""


@dataclass(frozen=True)
class Ticket:
    """What sending answers needs to know about an invitation, read in one cheap query."""

    invitation_id: int
    round_id: int
    campaign_id: int | None
    role: str
    used: bool
    instrument: Instrument
    public_key: bytes | None

    @property
    def closing_lock(self) -> tuple[int, int]:
        """The advisory lock that closing this invitation's round takes (a campaign closes as one)."""
        return closing_lock(round_id=self.round_id, campaign_id=self.campaign_id)


def closing_lock(*, round_id: int, campaign_id: int | None) -> tuple[int, int]:
    if campaign_id is not None:
        return LOCK_CAMPAIGN, campaign_id % INT4
    return LOCK_ROUND, round_id % INT4


def invitation_id_for(*, token_hash: str) -> int | None:
    """The invitation a link belongs to, used or not; None for a link nobody was given."""
    return AnswerToken.objects.filter(token_hash=token_hash).values_list("invitation_id", flat=True).first()


def ticket_for(*, token_hash: str | None = None, invitation_id: int | None = None) -> Ticket | None:
    """The ticket behind a link or an invitation id, used or not; None if there is none."""
    if token_hash is not None:
        invitation_id = invitation_id_for(token_hash=token_hash)
        if invitation_id is None:
            return None
    # Plain SQL: this runs once per submission, and the ORM took longer to build it than to run it.
    if _straight_to_sqlite():
        with connection.wrap_database_errors:
            row = connection.connection.execute(_qmarks(_ticket_sql("sqlite")), [invitation_id]).fetchone()
    else:
        with connection.wrap_database_errors, _cursor_with_parameters_apart() as cursor:
            cursor.execute(_ticket_sql(connection.vendor), [invitation_id])
            row = cursor.fetchone()
    if row is None:
        return None
    invitation_id, round_id, campaign_id, role, used, instrument_id, public_key = row
    return Ticket(
        invitation_id=invitation_id,
        round_id=round_id,
        campaign_id=campaign_id,
        role=role,
        used=bool(used),
        instrument=instrument_by_id(instrument_id),
        public_key=bytes(public_key) if public_key is not None else None,
    )


@functools.cache
def _ticket_sql(_vendor: str) -> str:
    # Written once per database (the key): quoting the names cost as much as running the query.
    quote = connection.ops.quote_name
    invitation, round_, key = (quote(m._meta.db_table) for m in (Invitation, Round, RoundKey))
    return (
        f"SELECT i.{quote('id')}, i.{quote('round_id')}, r.{quote('campaign_id')}, i.{quote('role')}, "  # noqa: S608
        f"i.{quote('used')}, r.{quote('instrument_id')}, k.{quote('public_key')} "
        f"FROM {invitation} i JOIN {round_} r ON r.{quote('id')} = i.{quote('round_id')} "
        f"LEFT JOIN {key} k ON k.{quote('round_id')} = r.{quote('id')} WHERE i.{quote('id')} = %s"
    )


def usable_invitation(*, token_hash: str | None = None, invitation_id: int | None = None) -> Invitation | None:
    """The invitation behind a link (or an id) if it can still be answered, else None (one answer for all cases).

    With its round and instrument, for the pages of the form; the team and person load lazily.
    """
    if token_hash is not None:
        invitation_id = invitation_id_for(token_hash=token_hash) or 0
    invitation = (
        Invitation.objects.select_related("round__instrument")
        .defer("round__instrument__content")  # the text is parsed once per process, not read per request
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or invitation.used or not invitation.round.accepts_answers():
        return None
    return invitation


def submit_answers(*, ticket: Ticket | None, answers: Answers) -> None:
    """Store one person's answers as one sealed ballot and use up their invitation, all or nothing.

    The ticket may have been read a moment ago, outside any transaction: whether the invitation
    is still unused and its round still open is checked again by the claim itself.
    """
    if ticket is None or ticket.used or ticket.public_key is None:
        raise InvitationUnusable
    # Everything that needs no transaction is done before one starts, so it stays short.
    cleaned = check_answers(instrument=ticket.instrument, role=ticket.role, answers=answers)
    plaintext = sealing.encode_answers(instrument=ticket.instrument, role=ticket.role, answers=cleaned)
    sealed = sealing.seal(ticket.public_key, plaintext)
    if connection.vendor == "postgresql":
        claimed = _locks_claim_and_ballot_in_one_trip(ticket, sealed)
    elif _straight_to_sqlite():
        claimed = _claim_and_store_on_sqlite(ticket, sealed)
    else:
        with transaction.atomic():
            claimed = _claim_then_store(_run_through_django, ticket, sealed)
    if not claimed:
        raise InvitationUnusable


# The statements below run on every submission, so they are written once as plain, portable SQL
# instead of being rebuilt by the ORM each time: building them cost several times more than
# running them.


_LOCKS_SQL = "SELECT pg_advisory_xact_lock_shared(%s, %s), pg_advisory_xact_lock(%s, %s)"


def _lock_parameters(ticket: Ticket) -> list:
    scope, scope_id = ticket.closing_lock
    return [scope, scope_id, LOCK_INVITATION, ticket.invitation_id % INT4]


def _claim_sql() -> str:
    return _claim_sql_for(connection.vendor)


@functools.cache
def _claim_sql_for(_vendor: str) -> str:
    quote = connection.ops.quote_name
    invitation, round_ = quote(Invitation._meta.db_table), quote(Round._meta.db_table)
    return (
        f"UPDATE {invitation} SET {quote('used')} = %s "  # noqa: S608 - names are ours, values are parameters
        f"WHERE {quote('id')} = %s AND {quote('used')} = %s AND EXISTS (SELECT 1 FROM {round_} r "
        f"WHERE r.{quote('id')} = %s AND r.{quote('status')} = %s AND r.{quote('closes_at')} > %s)"
    )


def _claim_parameters(ticket: Ticket) -> list:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    return [True, ticket.invitation_id, False, ticket.round_id, RoundStatus.OPEN, now]


def _insert_ballot_sql(values: str) -> str:
    return _insert_ballot_sql_for(connection.vendor, values)


@functools.cache
def _insert_ballot_sql_for(_vendor: str, values: str) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in ("id", "round_id", "sealed"))
    return f"INSERT INTO {quote(Ballot._meta.db_table)} ({columns}) {values}"


def _ballot_parameters(round_id: int, sealed: bytes) -> list:
    return [Ballot._meta.pk.get_db_prep_value(uuid.uuid4(), connection), round_id, sealed]


def _claim_then_store(run, ticket: Ticket, sealed: bytes) -> bool:
    """SQLite's two writes: claim the invitation if it is unused and its round still accepts
    answers, and only then store the ballot; True if claimed. `run(sql, parameters)` runs one
    statement and returns how many rows it changed."""
    if run(_claim_sql(), _claim_parameters(ticket)) != 1:
        return False
    run(_insert_ballot_sql("VALUES (%s, %s, %s)"), _ballot_parameters(ticket.round_id, sealed))
    return True


def _run_through_django(sql: str, parameters: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return cursor.rowcount


def _run_straight(sql: str, parameters: list) -> int:
    return connection.connection.execute(_qmarks(sql), parameters).rowcount


def _unwatched() -> bool:
    """Whether the submission's statements may skip Django's statement machinery: outside any
    transaction, with nothing watching the statements (no execute wrapper, no query log).

    Django's machinery -- a cursor wrapper per statement, the wrappers' chain, on SQLite the
    rewriting of %s to ? -- cost as much as the claim and the ballot's insert themselves on
    SQLite, and a tenth of the submission's own time on PostgreSQL. Where anything watches (tests
    that count or break statements, DEBUG), the statements go through Django as before; the SQL,
    the transaction and the errors raised are the same.
    """
    if connection.in_atomic_block or connection.execute_wrappers or connection.queries_logged:
        return False
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    return True


def _straight_to_sqlite() -> bool:
    return connection.vendor == "sqlite" and _unwatched()


@functools.cache
def _qmarks(sql: str) -> str:
    return sql.replace("%s", "?")  # sqlite3's placeholders; these statements hold no literal %


def _claim_and_store_on_sqlite(ticket: Ticket, sealed: bytes) -> bool:
    """SQLite, straight to sqlite3: the claim and the ballot in one write transaction, taken at
    BEGIN IMMEDIATE as every write transaction here; True if claimed."""
    raw = connection.connection
    with connection.wrap_database_errors:
        raw.execute("BEGIN IMMEDIATE")
        try:
            claimed = _claim_then_store(_run_straight, ticket, sealed)
        except BaseException:
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")
    return claimed


def _locks_claim_and_ballot_in_one_trip(ticket: Ticket, sealed: bytes) -> bool:
    """PostgreSQL: the locks, then the claim with its ballot, in one transaction and one round trip;
    True if claimed.

    BEGIN, the two statements and COMMIT go as one pipeline (psycopg's pipeline mode): the server
    runs them in order and answers them together, where each cost a round trip of its own before.
    Inside a transaction already open (a caller's atomic block) the statements go in a savepoint
    instead. Anything that fails -- a statement, or anything raised before COMMIT was sent --
    rolls the whole transaction back.

    The claim is a statement of its own after the locks, so it reads a snapshot taken once the
    locks are held, after any earlier submission of the same link committed: it finds that
    invitation used and leaves it untouched (no lock mark in its xmax). The ballot is inserted only
    for a row the claim updated (a data-modifying WITH).
    """
    claim_sql = f"WITH claimed AS ({_claim_sql()} RETURNING 1) " + _insert_ballot_sql("SELECT %s, %s, %s FROM claimed")  # noqa: S608
    parameters = _claim_parameters(ticket) + _ballot_parameters(ticket.round_id, sealed)
    nested = connection.in_atomic_block
    control, locks, claim = (_cursor_with_parameters_apart() for _ in range(3))
    raw = connection.connection
    try:
        transaction_ = transaction.atomic() if nested else _explicit_transaction(control)
        with connection.wrap_database_errors, raw.pipeline(), transaction_:
            locks.execute(_LOCKS_SQL, _lock_parameters(ticket))
            claim.execute(claim_sql, parameters)
        return claim.rowcount == 1
    except BaseException:
        if not nested and raw.info.transaction_status != _psycopg_idle():
            raw.rollback()  # the block BEGIN opened, left open by the failure
        raise
    finally:
        for cursor in (control, locks, claim):
            cursor.close()


@contextmanager
def _explicit_transaction(cursor):
    """BEGIN and, unless the block raised, COMMIT, sent as statements: queued in the pipeline like the rest."""
    cursor.execute("BEGIN")
    yield
    cursor.execute("COMMIT")


def _psycopg_idle():
    from psycopg.pq import TransactionStatus  # imported here: only PostgreSQL has psycopg

    return TransactionStatus.IDLE


def _cursor_with_parameters_apart():
    """A cursor for the statements every submission runs; on PostgreSQL one that sends the
    parameters beside the SQL instead of inside it, and prepares each statement once per connection.

    Django's cursors bind on the client: the 24 KB ballot went into the SQL text as 49 KB of hex,
    which psycopg wrote and the server then parsed back. psycopg's own cursor sends it as 24 KB
    of binary. Planning the ticket's join cost the server about 125 us on every submission,
    four times what running it costs; prepared, it is planned once per connection. Only these
    statements are prepared (settings.py: nothing is prepared unless it asks); behind a
    transaction-mode pooler that needs protocol-level prepared statements (docs/deployment.md).
    Where anything watches the statements it is wrapped as Django wraps its cursors, so errors,
    execute wrappers and query logging are the same; callers wrap database errors either way.
    """
    if connection.vendor != "postgresql":
        return connection.cursor()
    if _unwatched():  # nothing to tell: psycopg's cursor without Django's wrapper (see _unwatched)
        return _preparing_cursor_class()(connection.connection)
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    return connection._prepare_cursor(_preparing_cursor_class()(connection.connection))


@functools.cache
def _preparing_cursor_class():
    import psycopg  # imported here: only PostgreSQL has psycopg

    class PreparingCursor(psycopg.Cursor):
        """psycopg's server-binding cursor, preparing every statement it runs (once per connection)."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True if prepare is None else prepare, binary=binary)

    return PreparingCursor
