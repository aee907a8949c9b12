"""Counting the sealed ballots of rounds that close (DESIGN.md 2.1).

Run inside the closing transaction, after the rounds are marked closed: every round key is
unwrapped first (a server without the right master key stops here, having written nothing);
then each round's ballots are opened in random order and added up in memory; its counters are
created with the totals, its comments written with random ids in random order, and its
ballots, links and key deleted. One commit makes all of it visible at once, so the database
never holds a state in which some ballots are counted and others not.

A ballot that does not open stops the close with BallotUnreadable, and the transaction around
it rolls back: the ballots stay, nothing is counted, and the round can be closed again once the
cause is found.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db import connection

from gensidig.db.bulk import insert_rows, without_queries
from gensidig.models import AnswerToken, Ballot, Comment, RatingCounter, Round, RoundKey
from gensidig.services.ballots import keys, sealing
from gensidig.services.survey.answering import closing_lock
from gensidig.services.survey.instruments import counter_slots, items_by_key

# Rounds whose ballots are read together; bounds the memory a large campaign's close needs.
ROUNDS_PER_CHUNK = 50
_random = random.SystemRandom()


class TallyError(Exception):
    """Closing cannot count these rounds; the message says why and nothing was stored."""


@dataclass
class Counted:
    """What `count_ballots` counted: how many ballots, and each round's counters as they were stored.

    The figures are computed in the same transaction, from exactly these totals; handing them over
    saves reading back the rows just written (a tenth of a second per thousand rounds, and more
    as the campaign grows). Whoever reads them may pop a round's rows once used.
    """

    ballots: int = 0
    rows: dict[int, list[tuple]] = field(default_factory=dict)  # round id -> [(item id, role, scale, (c0..c5))]


def lock_out_submissions(*, round_id: int | None = None, campaign_id: int | None = None) -> None:
    """Wait for submissions under way to finish, and hold new ones until this transaction ends.

    PostgreSQL only (an advisory lock, which no row or log keeps); SQLite's writer lock, taken at
    BEGIN IMMEDIATE, already does this.
    """
    if connection.vendor != "postgresql":
        return
    scope, scope_id = closing_lock(round_id=round_id or 0, campaign_id=campaign_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [scope, scope_id])


def count_ballots(*, rounds: Iterable[Round]) -> Counted:
    """Open and count every ballot of the rounds; returns how many, and the counters stored."""
    if not connection.in_atomic_block:
        raise RuntimeError("count_ballots must run inside the transaction that closes the rounds")
    rounds = list(rounds)
    counted = Counted()
    if not rounds:
        return counted
    master = keys.master_key()
    ids = [round_.pk for round_ in rounds]
    round_keys = {rk.round_id: rk for rk in RoundKey.objects.filter(round_id__in=ids)}
    private_keys = {}
    for round_ in rounds:
        if round_.pk not in round_keys:
            raise TallyError(f"Round {round_.public_id} has no ballot key, so its ballots cannot be opened.")
        try:
            private_keys[round_.pk] = keys.unwrap(round_keys[round_.pk], master=master)
        except keys.BallotKeyError as error:
            raise TallyError(str(error)) from error
    if RatingCounter.objects.filter(round_id__in=ids).exists():
        raise TallyError("These rounds already have counters; they were counted before.")

    for round_ in rounds:  # read here: the counting thread may not query
        counter_slots(round_.instrument)
        items_by_key(round_.instrument)
    chunks = [rounds[start : start + ROUNDS_PER_CHUNK] for start in range(0, len(rounds), ROUNDS_PER_CHUNK)]
    # One chunk is counted in a thread while this one takes the next chunk's ballots and stores
    # the last chunk's counters: on two cores the database and the counting overlap.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gensidig-tally") as counting:
        pending = None
        for chunk in chunks:
            sealed = _take_ballots(chunk)
            finished = _result(pending)
            pending = counting.submit(_count_chunk, chunk, sealed, private_keys)
            if finished is not None:
                _store(finished, counted)
        _store(_result(pending), counted)
    AnswerToken.objects.filter(invitation__round_id__in=ids).delete()
    RoundKey.objects.filter(round_id__in=ids).delete()
    return counted


@dataclass
class _ChunkCounted:
    ballots: int = 0
    counters: list = field(default_factory=list)  # rows of RatingCounter
    comments: list = field(default_factory=list)  # (round id, theme key, text), shuffled per round
    rows: dict = field(default_factory=dict)  # round id -> what Counted.rows keeps


class _Unreadable(Exception):
    def __init__(self, round_: Round, error: Exception):
        super().__init__(str(error))
        self.round = round_


def _take_ballots(rounds: list[Round]) -> dict[int, list[bytes]]:
    """Delete the rounds' ballots and return them, in one statement (DELETE … RETURNING).

    Reading them and deleting them at the end went over every ballot's 24 KB twice; at region
    scale the second pass came long after the first had left the database's cache, and took
    longer than the first (1.4 s of a 20,000-person close). Should the close fail, the
    transaction rolls back and every ballot is there again.
    """
    by_round: dict[int, list[bytes]] = defaultdict(list)
    ids = [round_.pk for round_ in rounds]
    quote = connection.ops.quote_name
    sql = (
        f"DELETE FROM {quote(Ballot._meta.db_table)} WHERE {quote('round_id')} IN ({', '.join(['%s'] * len(ids))}) "  # noqa: S608 - names are ours, values are parameters
        f"RETURNING {quote('round_id')}, {quote('sealed')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        while batch := cursor.fetchmany(200):
            for round_id, sealed in batch:
                by_round[round_id].append(bytes(sealed))
    return by_round


def _result(pending) -> _ChunkCounted | None:
    """The counting thread's result, with an unreadable ballot told as the close tells it."""
    if pending is None:
        return None
    try:
        return pending.result()
    except _Unreadable as unreadable:
        round_ = unreadable.round
        raise TallyError(
            f"A ballot of round {round_.public_id} ({round_.team.name}) cannot be counted: {unreadable}. "
            "Nothing was counted and every ballot is kept."
        ) from unreadable.__cause__


def _count_chunk(rounds: list[Round], by_round: dict[int, list[bytes]], private_keys: dict) -> _ChunkCounted:
    """Open and add up every ballot of the rounds (in the counting thread: no queries)."""
    result = _ChunkCounted()
    with without_queries():
        for round_ in rounds:
            instrument = round_.instrument
            slots = counter_slots(instrument)
            totals = [[0] * 6 for _ in slots]
            round_comments: list[tuple[str, str]] = []
            ballots = by_round.pop(round_.pk, [])
            _random.shuffle(ballots)
            for sealed in ballots:
                try:
                    opened = sealing.open_ballot(
                        private_key=private_keys[round_.pk], sealed=sealed, instrument=instrument
                    )
                except sealing.BallotUnreadable as error:
                    raise _Unreadable(round_, error) from error
                for question, value in opened.ratings:
                    totals[slots[question]][value] += 1
                for question, values in opened.counts:
                    for value, count in enumerate(values):
                        totals[slots[question]][value] += count
                round_comments += opened.comments
                result.ballots += 1
            kept = result.rows[round_.pk] = []
            for slot, item_id, role, scale in _layout(instrument):
                kept.append((item_id, role, scale, tuple(totals[slot])))
                result.counters.append((round_.pk, item_id, role, scale, slot, *totals[slot]))
            _random.shuffle(round_comments)
            result.comments += [(round_.pk, theme, text) for theme, text in round_comments]
    return result


def _layout(instrument) -> list[tuple[int, int, str, str]]:
    """(slot, item id, role, scale) of every counter of a round of the instrument."""
    items = items_by_key(instrument)
    return [(slot, items[key].pk, role, scale) for (role, key, scale), slot in counter_slots(instrument).items()]


def _store(chunk: _ChunkCounted, counted: Counted) -> None:
    # Plain SQL: building tens of thousands of model objects took longer than storing them.
    insert_rows(
        RatingCounter, ("round_id", "item_id", "role", "scale", "slot", *RatingCounter.VALUE_FIELDS), chunk.counters
    )
    insert_rows(Comment, ("id", "round_id", "theme_key", "text"), [(_uuid_value(), *row) for row in chunk.comments])
    counted.ballots += chunk.ballots
    counted.rows.update(chunk.rows)


def _uuid_value():
    return Comment._meta.pk.get_db_prep_value(uuid.uuid4(), connection)
