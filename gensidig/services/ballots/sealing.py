"""One person's answers as one sealed ballot of a fixed size, and opening it again at close.

A ballot is a small binary record -- the role, every rating in the survey's question order, and
a comment per theme as UTF-16 -- padded with zeros to a size fixed by the instrument, then sealed
with libsodium's sealed box to the round's public key. Every ballot of a round has the same
length whatever was written, so not even the size of a ciphertext tells how long someone's
comments were (they are readable after close, and could otherwise be matched to ballots).

UTF-16 because browsers count a textarea's `maxlength` in UTF-16 code units: a comment that fits
the form fits its fixed place in the ballot (2 bytes a unit), whatever the script or emoji.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from dataclasses import dataclass, field

import nacl.exceptions
import nacl.public

from gensidig import framework as fw
from gensidig.models import Instrument
from gensidig.models.choices import ANSWER_VALUES, Role
from gensidig.services.survey.instruments import framework_for
from gensidig.services.survey.questions import MAX_COMMENT_LENGTH, Answers, questions_for

MAGIC = b"GSB"
FORMAT_ANSWERS = 1
# The counts and comments a round had gathered before sealed ballots existed, carried over into
# one ballot by the upgrade (migration 0010), so that round is counted at close like any other.
FORMAT_CARRIED_TOTALS = 2
ROLE_CODES = {Role.LEADER: 0, Role.CHIEF: 1}
ROLES_BY_CODE = {code: role for role, code in ROLE_CODES.items()}
SIZE_STEP = 256

Question = tuple[str, str, str]  # role, item key, scale


class BallotUnreadable(Exception):
    """A ballot that does not open with its round's key, or does not parse: tampered or foreign."""


@dataclass
class OpenedBallot:
    """What one ballot adds to its round: single answers, or (carried-over totals) counts."""

    ratings: list[tuple[Question, int]] = field(default_factory=list)
    counts: list[tuple[Question, list[int]]] = field(default_factory=list)
    comments: list[tuple[str, str]] = field(default_factory=list)


_sizes: dict[str, int] = {}


def ballot_size(instrument: Instrument) -> int:
    """The one size every ballot of a round of this instrument is padded to (fixed by its content)."""
    if instrument.checksum not in _sizes:
        questions = max(len(questions_for(instrument=instrument, role=role)) for role in ROLE_CODES)
        themes = len(framework_for(instrument, fw.LANGUAGES[0]).themes)
        largest = len(MAGIC) + 2 + 2 + questions + themes * (2 + 2 * MAX_COMMENT_LENGTH)
        _sizes[instrument.checksum] = -(-largest // SIZE_STEP) * SIZE_STEP
    return _sizes[instrument.checksum]


_pickers: dict[tuple[str, str], Callable[[dict], tuple]] = {}


def _ratings_in_order(instrument: Instrument, role: str) -> Callable[[dict], tuple]:
    """What reads every rating in survey order from the ratings in one call (an itemgetter)."""
    key = (instrument.checksum, role)
    if key not in _pickers:
        questions = questions_for(instrument=instrument, role=role)
        pick = operator.itemgetter(*questions)
        _pickers[key] = pick if len(questions) > 1 else lambda ratings: (pick(ratings),)
    return _pickers[key]


def encode_answers(*, instrument: Instrument, role: str, answers: Answers) -> bytes:
    """The padded plaintext of one person's checked answers."""
    values = bytes(_ratings_in_order(instrument, role)(answers.ratings))
    parts = [MAGIC, bytes([FORMAT_ANSWERS, ROLE_CODES[role]]), len(values).to_bytes(2, "big"), values]
    for theme in framework_for(instrument, fw.LANGUAGES[0]).themes:
        text = answers.comments.get(theme.key, "").encode("utf-16-le")
        if len(text) > 2 * MAX_COMMENT_LENGTH:
            raise ValueError("a comment is longer than a ballot holds")
        parts += [(len(text) // 2).to_bytes(2, "big"), text]
    body = b"".join(parts)
    return body + bytes(ballot_size(instrument) - len(body))


def encode_carried_totals(*, counts: list[tuple[Question, list[int]]], comments: list[tuple[str, str]]) -> bytes:
    """The plaintext of a carried-over ballot: counts per question and value, and comments."""
    payload = {"counts": [[list(question), values] for question, values in counts], "comments": comments}
    return MAGIC + bytes([FORMAT_CARRIED_TOTALS]) + json.dumps(payload, ensure_ascii=False).encode()


def seal(public_key: bytes, plaintext: bytes) -> bytes:
    return nacl.public.SealedBox(nacl.public.PublicKey(bytes(public_key))).encrypt(plaintext)


def open_ballot(*, private_key: nacl.public.PrivateKey, sealed: bytes, instrument: Instrument) -> OpenedBallot:
    """Decrypt and parse one ballot; BallotUnreadable if it is not one of this round's."""
    try:
        plaintext = nacl.public.SealedBox(private_key).decrypt(bytes(sealed))
    except nacl.exceptions.CryptoError:
        raise BallotUnreadable("a ballot does not open with its round's key") from None
    try:
        return _parse(plaintext, instrument)
    except (IndexError, KeyError, ValueError, TypeError, UnicodeDecodeError) as error:
        raise BallotUnreadable(f"a ballot does not parse: {error}") from None


def _parse(plaintext: bytes, instrument: Instrument) -> OpenedBallot:
    if plaintext[: len(MAGIC)] != MAGIC:
        raise ValueError("not a ballot")
    position = len(MAGIC)
    kind = plaintext[position]
    if kind == FORMAT_CARRIED_TOTALS:
        payload = json.loads(plaintext[position + 1 :].decode())
        return OpenedBallot(
            counts=[(tuple(question), [int(v) for v in values]) for question, values in payload["counts"]],
            comments=[(theme, text) for theme, text in payload["comments"]],
        )
    if kind != FORMAT_ANSWERS:
        raise ValueError(f"unknown ballot format {kind}")
    role = ROLES_BY_CODE[plaintext[position + 1]]
    position += 2
    count = int.from_bytes(plaintext[position : position + 2], "big")
    position += 2
    questions = questions_for(instrument=instrument, role=role)
    values = plaintext[position : position + count]
    if count != len(questions) or len(values) != count or any(v not in ANSWER_VALUES for v in values):
        raise ValueError("the ratings do not fit the survey")
    position += count
    opened = OpenedBallot(
        ratings=[((role, key, scale), value) for (key, scale), value in zip(questions, values, strict=True)]
    )
    for theme in framework_for(instrument, fw.LANGUAGES[0]).themes:
        units = int.from_bytes(plaintext[position : position + 2], "big")
        position += 2
        text = plaintext[position : position + 2 * units].decode("utf-16-le")
        position += 2 * units
        if text:
            opened.comments.append((theme.key, text))
    return opened
