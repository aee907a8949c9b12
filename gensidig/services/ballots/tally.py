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

from django.db import connection

from gensidig.db.bulk import insert_rows
from gensidig.models import AnswerToken, Ballot, Comment, RatingCounter, Round, RoundKey
from gensidig.services.ballots import keys, sealing
from gensidig.services.survey.answering import closing_lock
from gensidig.services.survey.instruments import counter_slots, items_by_key

# Rounds whose ballots are read together; bounds the memory a large campaign's close needs.
ROUNDS_PER_CHUNK = 50
_random = random.SystemRandom()


class TallyError(Exception):
    """Closing cannot count these rounds; the message says why and nothing was stored."""


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


def count_ballots(*, rounds: Iterable[Round]) -> int:
    """Open and count every ballot of the rounds; returns how many ballots were counted."""
    if not connection.in_atomic_block:
        raise RuntimeError("count_ballots must run inside the transaction that closes the rounds")
    rounds = list(rounds)
    if not rounds:
        return 0
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

    counted = 0
    for start in range(0, len(rounds), ROUNDS_PER_CHUNK):
        chunk = rounds[start : start + ROUNDS_PER_CHUNK]
        counted += _count_chunk(chunk, private_keys)
    Ballot.objects.filter(round_id__in=ids).delete()
    AnswerToken.objects.filter(invitation__round_id__in=ids).delete()
    RoundKey.objects.filter(round_id__in=ids).delete()
    return counted


def _count_chunk(rounds: list[Round], private_keys: dict) -> int:
    by_round: dict[int, list[bytes]] = defaultdict(list)
    for round_id, sealed in (
        Ballot.objects.filter(round_id__in=[round_.pk for round_ in rounds])
        .order_by()
        .values_list("round_id", "sealed")
        .iterator(chunk_size=200)
    ):
        by_round[round_id].append(bytes(sealed))
    counters, comments, counted = [], [], 0
    for round_ in rounds:
        instrument = round_.instrument
        slots = counter_slots(instrument)
        totals = [[0] * 6 for _ in slots]
        round_comments: list[tuple[str, str]] = []
        ballots = by_round.pop(round_.pk, [])
        _random.shuffle(ballots)
        for sealed in ballots:
            try:
                opened = sealing.open_ballot(private_key=private_keys[round_.pk], sealed=sealed, instrument=instrument)
            except sealing.BallotUnreadable as error:
                raise TallyError(
                    f"A ballot of round {round_.public_id} ({round_.team.name}) cannot be counted: {error}. "
                    "Nothing was counted and every ballot is kept."
                ) from error
            for question, value in opened.ratings:
                totals[slots[question]][value] += 1
            for question, values in opened.counts:
                for value, count in enumerate(values):
                    totals[slots[question]][value] += count
            round_comments += opened.comments
            counted += 1
        items = items_by_key(instrument)
        counters += [
            (round_.pk, items[key].pk, role, scale, slot, *totals[slot]) for (role, key, scale), slot in slots.items()
        ]
        _random.shuffle(round_comments)
        comments += [(_uuid_value(), round_.pk, theme, text) for theme, text in round_comments]
    # Plain SQL: building tens of thousands of model objects took longer than storing them.
    insert_rows(RatingCounter, ("round_id", "item_id", "role", "scale", "slot", *RatingCounter.VALUE_FIELDS), counters)
    insert_rows(Comment, ("id", "round_id", "theme_key", "text"), comments)
    return counted


def _uuid_value():
    return Comment._meta.pk.get_db_prep_value(uuid.uuid4(), connection)
