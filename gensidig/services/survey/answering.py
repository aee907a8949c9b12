"""Storing one person's answers so that nobody can ever tell which answers were theirs.

A submission is one transaction: it locks the round and the invitation, adds one to the
counters of the values given in a single UPDATE that touches every counter row of the round
(so no row's transaction id tells which ones this person changed, DESIGN.md 2.1), rewrites the
round's comments in random order, and marks the invitation used while rewriting every invitation
of the round alike. Anything that fails rolls it all back and leaves the link usable (rule 8).
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from gensidig import framework as fw
from gensidig.models import Comment, Instrument, Invitation, RatingCounter, Round
from gensidig.models.choices import ANSWER_VALUES, SCALES_BY_ROLE_AND_KIND, ItemKind, Role, RoundStatus
from gensidig.services.survey.instruments import counter_slots, framework_for, instrument_by_id

MAX_COMMENT_LENGTH = 2000


class AnswersRejected(ValueError):
    """The answers do not fit the survey; nothing was stored."""


class InvitationUnusable(Exception):
    """The link is unknown, used, or its round no longer accepts answers."""


@dataclass(frozen=True)
class Answers:
    ratings: dict[tuple[str, str], int]  # (item key, scale) -> 0 for "don't know", or 1-5
    comments: dict[str, str]  # theme key -> text; only leaders comment


def questions_for(*, instrument: Instrument, role: str) -> list[tuple[str, str]]:
    """Every (item key, scale) a person in this role answers, in survey order."""
    framework = framework_for(instrument, fw.LANGUAGES[0])
    questions = []
    for theme in framework.themes:
        for kind, items in ((ItemKind.NEED, theme.needs), (ItemKind.EXPECTATION, theme.expectations)):
            for item in items:
                questions += [(item.key, scale) for scale in SCALES_BY_ROLE_AND_KIND[(role, kind)]]
    return questions


def clean_comment(text: str) -> str:
    """Normalise a comment and drop control characters that have no place in prose."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return text.strip()


def check_answers(*, instrument: Instrument, role: str, answers: Answers) -> Answers:
    """Refuse answers that do not fit the survey exactly; return them cleaned."""
    expected = set(questions_for(instrument=instrument, role=role))
    given = set(answers.ratings)
    if given != expected:
        raise AnswersRejected(f"{len(expected - given)} questions unanswered, {len(given - expected)} unknown")
    if any(value not in ANSWER_VALUES for value in answers.ratings.values()):
        raise AnswersRejected("an answer is outside the scale")
    comments = {}
    if answers.comments:
        if role != Role.LEADER:
            raise AnswersRejected("only leaders write comments")
        theme_keys = {theme.key for theme in framework_for(instrument, fw.LANGUAGES[0]).themes}
        for theme_key, text in answers.comments.items():
            if theme_key not in theme_keys:
                raise AnswersRejected("a comment names an unknown theme")
            cleaned = clean_comment(text)
            if len(cleaned) > MAX_COMMENT_LENGTH:
                raise AnswersRejected("a comment is too long")
            if cleaned:
                comments[theme_key] = cleaned
    return Answers(ratings=dict(answers.ratings), comments=comments)


@dataclass(frozen=True)
class Ticket:
    """What sending answers needs to know about an invitation, read in one cheap query."""

    invitation_id: int
    round_id: int
    role: str
    used: bool
    instrument: Instrument


def invitation_id_for(*, token_hash: str) -> int | None:
    """The invitation a link belongs to, used or not; None for a link nobody was given."""
    return Invitation.objects.filter(token_hash=token_hash).values_list("pk", flat=True).first()


def ticket_for(*, token_hash: str | None = None, invitation_id: int | None = None) -> Ticket | None:
    """The ticket behind a link or an invitation id, used or not; None if there is none."""
    quote = connection.ops.quote_name
    invitation, round_ = quote(Invitation._meta.db_table), quote(Round._meta.db_table)
    column, value = ("token_hash", token_hash) if token_hash is not None else ("id", invitation_id)
    # Plain SQL: this runs once per submission, and the ORM took longer to build it than to run it.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT i.{quote('id')}, i.{quote('round_id')}, i.{quote('role')}, i.{quote('used')}, "  # noqa: S608
            f"r.{quote('instrument_id')} FROM {invitation} i JOIN {round_} r ON r.{quote('id')} = i.{quote('round_id')} "
            f"WHERE i.{quote(column)} = %s",
            [value],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    invitation_id, round_id, role, used, instrument_id = row
    return Ticket(invitation_id, round_id, role, bool(used), instrument_by_id(instrument_id))


def usable_invitation(*, token_hash: str | None = None, invitation_id: int | None = None) -> Invitation | None:
    """The invitation behind a link (or an id) if it can still be answered, else None (one answer for all cases).

    With its round and instrument, for the pages of the form; the team and person load lazily.
    """
    found = Invitation.objects.select_related("round__instrument").defer(
        "round__instrument__content"  # the text is parsed once per process, not read per request
    )
    found = found.filter(token_hash=token_hash) if token_hash is not None else found.filter(pk=invitation_id)
    invitation = found.first()
    if invitation is None or invitation.used or not invitation.round.accepts_answers():
        return None
    return invitation


def submit_answers(*, ticket: Ticket | None, answers: Answers) -> None:
    """Store one person's answers and use up their invitation, all or nothing.

    The ticket may have been read a moment ago, outside any lock: whether the invitation is
    still unused and its round still open is checked again under the lock.
    """
    if ticket is None or ticket.used:
        raise InvitationUnusable
    # Everything that needs no lock is done before taking one, so submissions queue briefly.
    cleaned = check_answers(instrument=ticket.instrument, role=ticket.role, answers=answers)
    slots = counter_slots(ticket.instrument)
    given: dict[int, list[int]] = {}  # value -> the slots of the questions answered with it
    for (key, scale), value in cleaned.ratings.items():
        given.setdefault(value, []).append(slots[(ticket.role, key, scale)])
    with transaction.atomic():
        if not _lock_for_answering(ticket.round_id, ticket.invitation_id):
            raise InvitationUnusable
        _count(ticket.round_id, given)
        _rewrite_comments(ticket.round_id, cleaned.comments)
        _mark_used(ticket.round_id, ticket.invitation_id)


# The statements below run on every submission, inside the lock that makes submissions to a
# round take turns, so they are written once as plain, portable SQL instead of being rebuilt by
# the ORM each time: building them cost several times more than running them, and every
# moment under the lock keeps the next leader waiting (SQLite locks the whole database).


def _lock_for_answering(round_id: int, invitation_id: int) -> bool:
    """Lock the round and the invitation; True if the round is open and the invitation unused.

    One statement locks both rows, always the round first (the order of the FROM list), so
    concurrent submissions never deadlock; a submission that waited re-reads both rows and finds
    the invitation used. SQLite took its write lock when the transaction began (BEGIN
    IMMEDIATE) and has no FOR UPDATE.
    """
    quote = connection.ops.quote_name
    for_update = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {quote(Round._meta.db_table)} r "  # noqa: S608 - names are ours, values are parameters
            f"JOIN {quote(Invitation._meta.db_table)} i ON i.{quote('round_id')} = r.{quote('id')} "
            f"WHERE r.{quote('id')} = %s AND i.{quote('id')} = %s AND r.{quote('status')} = %s "
            f"AND r.{quote('closes_at')} > %s AND i.{quote('used')} = %s{for_update}",
            [
                round_id,
                invitation_id,
                RoundStatus.OPEN,
                connection.ops.adapt_datetimefield_value(timezone.now()),
                False,
            ],
        )
        return cursor.fetchone() is not None


def _count(round_id: int, given: dict[int, list[int]]) -> int:
    """Add one to the given value of each question answered, in one statement over all rows."""
    # Adding 0 to the other rows is the point: all rows of the round are written by this
    # transaction, so none stands out as one this person's answers changed.
    quote = connection.ops.quote_name
    assignments, params = [], []
    for value, slots in sorted(given.items()):
        column = quote(RatingCounter.VALUE_FIELDS[value])
        placeholders = ", ".join(["%s"] * len(slots))
        assignments.append(f"{column} = {column} + CASE WHEN {quote('slot')} IN ({placeholders}) THEN 1 ELSE 0 END")
        params += slots
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(RatingCounter._meta.db_table)} SET {', '.join(assignments)} "  # noqa: S608 - names are ours, values are parameters
            f"WHERE {quote('round_id')} = %s",
            [*params, round_id],
        )
        return cursor.rowcount


def _mark_used(round_id: int, invitation_id: int) -> None:
    # Every invitation of the round is rewritten too, so the used one does not stand out by
    # the transaction that last wrote it, and the order in which people answered is not kept.
    table, used, pk, round_column = (
        connection.ops.quote_name(n) for n in (Invitation._meta.db_table, "used", "id", "round_id")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {used} = CASE WHEN {pk} = %s THEN %s ELSE {used} END WHERE {round_column} = %s",  # noqa: S608
            [invitation_id, True, round_id],
        )


def _rewrite_comments(round_id: int, new_comments: dict[str, str]) -> None:
    """Delete and re-insert every comment of the round, in the order of their random ids.

    That leaves no trace of which came last: not in the row order, not in the transaction ids.
    """
    quote = connection.ops.quote_name
    table = quote(Comment._meta.db_table)
    columns = ", ".join(quote(name) for name in ("id", "round_id", "theme_key", "text"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE {quote('round_id')} = %s "  # noqa: S608
            f"RETURNING {quote('id')}, {quote('theme_key')}, {quote('text')}",
            [round_id],
        )
        rows = [(uuid.UUID(str(id_)), theme, text) for id_, theme, text in cursor.fetchall()]
        rows += [(uuid.uuid4(), theme, text) for theme, text in new_comments.items()]
        if not rows:
            return
        rows.sort()
        pk = Comment._meta.pk
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s)",  # noqa: S608
            [(pk.get_db_prep_value(id_, connection), round_id, theme, text) for id_, theme, text in rows],
        )
