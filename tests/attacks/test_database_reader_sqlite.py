"""DESIGN.md 2.1, the database reader against SQLite: a copy of the database file and its WAL after every submission.

Six leaders and the chief answer one at a time, through the service every submission goes
through, the leaders with comments carrying unique markers. After every submission the attacker
copies the database file, its -wal and its -shm, as a backup operator or anyone with the data
folder could. Then, with every copy, the attacker rebuilds every committed state the files hold
(tests/attacks/sqlite_wal.py), diffs them table by table and row by row, and reads every byte:
to find which answers were whose. Each test is one thing the attacker tries, and asserts that
it fails. The attacker may learn which invitations were used (DESIGN.md 2): nothing more.

The honest server plays its part only where a test needs to know the truth to grade the
attack: which invitation each submission used, and the round's key (unwrapped with the master
key, which the attacker does not have).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import secrets
import shutil
import sqlite3
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nacl.bindings
import nacl.exceptions
import nacl.public
import nacl.secret
import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from gensidig import framework as fw
from gensidig.models import AnswerToken, Ballot, Comment, Invitation, RatingCounter, RoundKey
from gensidig.models.choices import Role
from gensidig.services.ballots import keys, sealing
from gensidig.services.survey.closing import close_round
from gensidig.services.survey.instruments import counter_slots, framework_for
from gensidig.services.survey.tokens import hash_token

from ..factories import answer, answers_for, chief_link, leader_links, make_team, start_round
from . import sqlite_wal

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "sqlite",
        reason="reads SQLite's database file and write-ahead log; on PostgreSQL see test_database_reader_postgres.py",
    ),
    pytest.mark.django_db(transaction=True),  # every submission really commits, as in production
]

INVITATION, BALLOT, TOKEN = Invitation._meta.db_table, Ballot._meta.db_table, AnswerToken._meta.db_table
COUNTER, COMMENT, ROUND_KEY = RatingCounter._meta.db_table, Comment._meta.db_table, RoundKey._meta.db_table
# The tables a submission's commit may change without telling anything but which invitation was
# used: the invitation's flag and one sealed ballot (the links are never written by a submission,
# and a change there would name no answer either).
SUBMISSION_TABLES = {INVITATION, BALLOT, TOKEN}
LEADERS = 6
MARKER_PREFIX = "GSATTACKMARK"  # no other test writes it
COMMENTED_THEMES = 3  # per leader: 18 comments, so a random order matches the submission order with odds 1/18!


@dataclass(frozen=True)
class Copy:
    """What the attacker took at one moment: the database file, its -wal and its -shm."""

    label: str
    folder: Path
    closed: bool  # taken after the round closed

    @property
    def main(self) -> Path:
        return self.folder / "db.sqlite3"

    @property
    def wal(self) -> Path:
        return self.folder / "db.sqlite3-wal"

    @property
    def shm(self) -> Path:
        return self.folder / "db.sqlite3-shm"

    def files(self) -> list[Path]:
        return [path for path in (self.main, self.wal, self.shm) if path.exists()]


@dataclass(frozen=True)
class Submission:
    """The truth about one submission, kept by the test to grade the attack."""

    invitation_id: int
    role: str
    comments: list[tuple[str, str]]
    plaintext: bytes  # exactly what the ballot seals

    def secrets_in_bytes(self) -> list[bytes]:
        """Byte strings that, found anywhere, would give this person's answers away."""
        # Every comment starts with MARKER_PREFIX, in whichever encoding it might be stored.
        return [self.plaintext[:64], self.ratings_bytes] + [
            MARKER_PREFIX.encode(encoding) for encoding in ("utf-8", "utf-16-le", "utf-16-be")
        ]

    @property
    def ratings_bytes(self) -> bytes:
        count = int.from_bytes(self.plaintext[5:7], "big")
        return self.plaintext[7 : 7 + count]


@dataclass(frozen=True)
class Snapshot:
    """One committed state, rebuilt from a copy: every table's rows with their rowids, in file order."""

    key: tuple
    state: sqlite_wal.State
    closed_copy: bool  # first seen in a copy taken after close
    rows: dict[str, list[tuple]]
    columns: dict[str, list[str]]

    def column(self, table: str, name: str) -> int:
        return self.columns[table].index(name) + 1  # +1: the rowid comes first

    def used_invitations(self) -> set[int]:
        if INVITATION not in self.rows:
            return set()
        id_, used = self.column(INVITATION, "id"), self.column(INVITATION, "used")
        return {row[id_] for row in self.rows[INVITATION] if row[used]}


@dataclass
class Observed:
    """Everything the attacker took, and what the test knows to grade the attack."""

    round_id: int
    instrument: object
    copies: list[Copy]
    submissions: list[Submission]
    private_key: bytes  # the honest server's, unwrapped with the master key
    master: keys.MasterKey
    workdir: Path
    _snapshots: list[Snapshot] = field(default_factory=list)

    def snapshots(self) -> list[Snapshot]:
        """Every committed state of every copy, oldest first, each once."""
        if not self._snapshots:
            seen: set = set()
            for number, copy in enumerate(self.copies):
                states = sqlite_wal.committed_states(
                    copy.main, copy.wal, shm=copy.shm, into=self.workdir / "states" / f"{number:02d}", skip=seen
                )
                for state in states:
                    seen.add(state.key)
                    if not state.exact:
                        continue  # rebuilt onto pages a checkpoint had already replaced; an earlier copy has it
                    with state.connect() as db:
                        tables = sqlite_wal.table_rows(db)
                        names = {table: sqlite_wal.columns(db, table) for table in tables}
                    db.close()
                    self._snapshots.append(Snapshot(state.key, state, copy.closed, tables, names))
        return self._snapshots

    def open_snapshots(self) -> list[Snapshot]:
        return [snapshot for snapshot in self.snapshots() if not snapshot.closed_copy]

    def files_while_open(self) -> list[Path]:
        copies = [path for copy in self.copies if not copy.closed for path in copy.files()]
        return copies + [snapshot.state.path for snapshot in self.open_snapshots()]

    def every_file(self) -> list[Path]:
        return [path for copy in self.copies for path in copy.files()] + [s.state.path for s in self.snapshots()]


def take_copy(into: Path, label: str, *, closed: bool = False) -> Copy:
    """Copy the database's files as they are between two requests, as a backup would."""
    database = Path(connection.settings_dict["NAME"])
    copy = Copy(label, into / label, closed)
    copy.folder.mkdir(parents=True)
    for suffix in ("", "-wal", "-shm"):
        source = database.with_name(database.name + suffix)
        if source.exists():
            shutil.copyfile(source, copy.folder / f"db.sqlite3{suffix}")
    return copy


def marker(leader: int, theme: int) -> str:
    """A comment no other test writes, each of its own length."""
    tag = f"{MARKER_PREFIX}{leader}x{theme}{secrets.token_hex(6)}"
    return f"{tag} " + "ord " * (1 + 5 * leader + theme) + "æøå"


def ratings_of(leader: int):
    """A pattern of ratings that only this leader gives."""
    return lambda key, scale: 1 + zlib.crc32(f"{leader}:{key}:{scale}".encode()) % 5


@pytest.fixture
def observed(tmp_path) -> Observed:
    # Start from a checkpointed, empty log, as after the server's own checkpoint: the log then
    # holds exactly the commits of this test.
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    team = make_team(leaders=LEADERS)
    round_, links = start_round(team)
    instrument = round_.instrument
    themes = [theme.key for theme in framework_for(instrument, fw.LANGUAGES[0]).themes]
    copies = [take_copy(tmp_path, "00-opened")]
    people = [(index, link) for index, link in enumerate(leader_links(links))] + [(LEADERS, chief_link(links))]
    submissions = []
    for index, link in people:
        if link.role == Role.LEADER:
            given = answers_for(
                round_,
                Role.LEADER,
                ratings_of(index),
                comments={themes[(index + j) % len(themes)]: marker(index, j) for j in range(COMMENTED_THEMES)},
            )
        else:
            given = answers_for(round_, Role.CHIEF, ratings_of(index))
        answer(link, given)
        invitation_id = AnswerToken.objects.get(token_hash=hash_token(link.token)).invitation_id
        submissions.append(
            Submission(
                invitation_id=invitation_id,
                role=link.role,
                comments=[(theme, given.comments[theme]) for theme in themes if theme in given.comments],
                plaintext=sealing.encode_answers(instrument=instrument, role=link.role, answers=given),
            )
        )
        copies.append(take_copy(tmp_path, f"{len(copies):02d}-after-{link.role}-{index}"))
    private_key = bytes(keys.unwrap(RoundKey.objects.get(round=round_)))  # the honest server, with the master key
    close_round(round_=round_)
    copies.append(take_copy(tmp_path, f"{len(copies):02d}-closed", closed=True))
    return Observed(
        round_id=round_.pk,
        instrument=instrument,
        copies=copies,
        submissions=submissions,
        private_key=private_key,
        master=keys.master_key(),
        workdir=tmp_path,
    )


def diff(before: Snapshot, after: Snapshot) -> dict[str, tuple[Counter, Counter]]:
    """Per table, the rows (rowid included) that a commit added and removed."""
    changed = {}
    for table in set(before.rows) | set(after.rows):
        old, new = Counter(before.rows.get(table, [])), Counter(after.rows.get(table, []))
        if old != new:
            changed[table] = (new - old, old - new)
    return changed


def commits(snapshots: list[Snapshot]):
    """(state before, state after, what changed) for each commit that changed anything."""
    for before, after in itertools.pairwise(snapshots):
        changes = diff(before, after)
        if changes:
            yield before, after, changes


def link_invitations(snapshots: list[Snapshot]) -> dict[int, dict[str, tuple[Counter, Counter]]]:
    """The attack: for each invitation, what else changed in the commit that used it."""
    linked = {}
    for before, after, changes in commits(snapshots):
        for invitation_id in after.used_invitations() - before.used_invitations():
            linked[invitation_id] = {table: rows for table, rows in changes.items() if table not in SUBMISSION_TABLES}
    return linked


def round_rows(snapshot: Snapshot, table: str, round_id: int) -> list[tuple]:
    if table not in snapshot.rows:
        return []
    column = snapshot.column(table, "round_id")
    return [row for row in snapshot.rows[table] if row[column] == round_id]


def found_in(paths: list[Path], needles: list[bytes]) -> list[tuple[str, bytes]]:
    hits = []
    for path in paths:
        data = path.read_bytes()
        hits += [(str(path), needle[:40]) for needle in needles if needle and needle in data]
    return hits


# --- The attacker's tool works -------------------------------------------------------------------


def test_the_attacker_rebuilds_each_submission_as_a_commit_of_its_own_and_sees_which_invitations_were_used(observed):
    # Without this the other attacks would prove nothing: the attacker does see every commit.
    snapshots = observed.open_snapshots()
    used_per_state = [len(snapshot.used_invitations()) for snapshot in snapshots]
    assert set(range(len(observed.submissions) + 1)) <= set(used_per_state)
    assert used_per_state == sorted(used_per_state)  # oldest first
    linked = link_invitations(snapshots)
    assert set(linked) == {s.invitation_id for s in observed.submissions}  # allowed: which were used
    for before, after, _changes in commits(snapshots):
        flipped = after.used_invitations() - before.used_invitations()
        assert len(flipped) <= 1, "two submissions in one observed commit: the copies were too far apart"
    assert all(snapshot.state.exact for snapshot in snapshots)
    # The latest state rebuilt from each copy is what SQLite itself reads from that copy.
    by_key = {snapshot.key: snapshot for snapshot in observed.snapshots()}
    for copy in observed.copies:
        log = sqlite_wal.read_wal(copy.wal)
        rebuilt = by_key[(*log.generation, log.commit_frames[-1].index if log.commit_frames else 0)]
        reread = copy.folder.with_name(copy.folder.name + "-reread")
        shutil.copytree(copy.folder, reread)
        with sqlite3.connect(reread / copy.main.name) as db:
            assert sqlite_wal.table_rows(db) == rebuilt.rows, copy.label
        db.close()


# --- While the round is open ---------------------------------------------------------------------


def test_no_invitation_can_be_linked_to_any_row_written_in_the_commit_that_used_it(observed):
    linked = link_invitations(observed.open_snapshots())
    evidence = {invitation: sorted(tables) for invitation, tables in linked.items() if tables}
    assert evidence == {}, f"linked {len(evidence)}/{len(linked)} invitations to rows written with them: {evidence}"
    # And the invitation table itself changed by exactly one flag: no other row, no other column.
    for before, after, changes in commits(observed.open_snapshots()):
        if after.used_invitations() != before.used_invitations():
            added, removed = changes[INVITATION]
            assert sum(added.values()) == sum(removed.values()) == 1
            (new,), (old,) = added, removed
            assert [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b] == [
                after.column(INVITATION, "used")
            ]
            ballots_added, ballots_removed = changes[BALLOT]
            assert sum(ballots_added.values()) == 1 and not ballots_removed


def test_no_counter_and_no_comment_row_exists_in_any_committed_state_while_the_round_is_open(observed):
    snapshots = observed.open_snapshots()
    assert snapshots
    for snapshot in snapshots:
        assert snapshot.rows.get(COUNTER, []) == [], snapshot.state.path.name
        assert snapshot.rows.get(COMMENT, []) == [], snapshot.state.path.name


def test_no_comment_text_and_no_rating_pattern_is_in_any_byte_of_any_copy_while_the_round_is_open(observed):
    needles = list(dict.fromkeys(needle for s in observed.submissions for needle in s.secrets_in_bytes()))
    files = observed.files_while_open()
    assert len(files) > 2 * len(observed.submissions)
    assert found_in(files, needles) == []
    # The same search does find them once the round has closed: the comments are published then.
    closed = [path for copy in observed.copies if copy.closed for path in copy.files()]
    markers = [text.split()[0].encode() for s in observed.submissions for _theme, text in s.comments]
    assert {needle for _path, needle in found_in(closed, markers)} == set(markers)


def test_every_ballot_in_every_state_has_the_same_size_whatever_was_written(observed):
    sizes = Counter()
    for snapshot in observed.open_snapshots():
        sealed = snapshot.column(BALLOT, "sealed")
        sizes.update(len(row[sealed]) for row in snapshot.rows.get(BALLOT, []))
    assert len(sizes) == 1, sizes
    (size,) = sizes
    assert size == sealing.ballot_size(observed.instrument) + nacl.bindings.crypto_box_SEALBYTES  # nothing but padding


def test_neither_the_rounds_private_key_nor_the_master_key_is_in_any_byte_of_any_copy(observed):
    needles = []
    for raw in (observed.private_key, observed.master.secret):
        needles += [raw, raw.hex().encode(), base64.b64encode(raw), base64.urlsafe_b64encode(raw).rstrip(b"=")]
    needles += [observed.master.encoded().encode(), observed.master.encoded().encode("utf-16-le")]
    assert found_in(observed.every_file(), needles) == []


def _candidate_keys(snapshot: Snapshot) -> set[bytes]:
    """Every 32 bytes in the database that could be a key: blobs and their windows, hex and text values, hashes."""
    candidates = set()
    for table, rows in snapshot.rows.items():
        for row in rows:
            for value in row:
                if isinstance(value, bytes):
                    if table == BALLOT:
                        candidates.add(value[:32])  # a sealed box starts with its ephemeral public key
                        continue
                    candidates.update(value[i : i + 32] for i in range(max(0, len(value) - 31)))
                elif isinstance(value, str) and value:
                    encoded = value.encode()
                    for text in (value, value.replace("-", "")):
                        if len(text) == 64:
                            with contextlib.suppress(ValueError):
                                candidates.add(bytes.fromhex(text))
                    if len(encoded) == 32:
                        candidates.add(encoded)
                    if len(encoded) <= 128:  # ids, fingerprints, hashes: their digests
                        candidates.add(hashlib.sha256(encoded).digest())
                        candidates.add(hashlib.blake2b(encoded, digest_size=32).digest())
    return {candidate for candidate in candidates if len(candidate) == 32}


def test_no_key_material_found_in_the_database_opens_a_ballot_or_unwraps_the_rounds_key(observed):
    last_open = observed.open_snapshots()[-1]
    (round_key,) = round_rows(last_open, ROUND_KEY, observed.round_id)
    wrapped = bytes(round_key[last_open.column(ROUND_KEY, "wrapped_private_key")])
    sealed_column = last_open.column(BALLOT, "sealed")
    ballots = [bytes(row[sealed_column]) for row in round_rows(last_open, BALLOT, observed.round_id)]
    assert len(ballots) == len(observed.submissions)
    candidates = _candidate_keys(last_open)
    assert len(candidates) > 100
    opened = []
    for candidate in candidates:
        try:
            nacl.secret.SecretBox(candidate).decrypt(wrapped)
            opened.append(("unwrapped the round key with", candidate.hex()))
        except nacl.exceptions.CryptoError:
            pass
        try:
            nacl.public.SealedBox(nacl.public.PrivateKey(candidate)).decrypt(ballots[0])
            opened.append(("opened a ballot with", candidate.hex()))
        except nacl.exceptions.CryptoError:
            pass
    assert opened == []
    # The honest server, with the master key, opens each of them: the check could have succeeded.
    private = nacl.public.PrivateKey(nacl.secret.SecretBox(observed.master.secret).decrypt(wrapped))
    assert bytes(private) == observed.private_key
    assert sorted(nacl.public.SealedBox(private).decrypt(b) for b in ballots) == sorted(
        s.plaintext for s in observed.submissions
    )


# --- After close ---------------------------------------------------------------------------------


def test_one_commit_at_close_wrote_only_totals_and_the_comments_in_an_order_unrelated_to_the_submissions(observed):
    snapshots = observed.snapshots()
    final = snapshots[-1]
    round_id = observed.round_id

    # Only totals: one counter per question of the instrument, nobody's row, no extra column.
    assert set(final.columns[COUNTER]) == {
        "id",
        "round_id",
        "item_id",
        "role",
        "scale",
        "slot",
        *RatingCounter.VALUE_FIELDS,
    }
    counters = round_rows(final, COUNTER, round_id)
    assert len(counters) == len(counter_slots(observed.instrument))
    role, first = final.column(COUNTER, "role"), final.column(COUNTER, "count_0")
    answered = Counter(s.role for s in observed.submissions)
    for row in counters:
        assert sum(row[first : first + 6]) == answered[row[role]]
    assert set(final.columns[COMMENT]) == {"id", "round_id", "theme_key", "text"}

    # One commit made every counter and comment, and removed every ballot, link and the key.
    first_counted = next(i for i, s in enumerate(snapshots) if round_rows(s, COUNTER, round_id))
    made, before = snapshots[first_counted], snapshots[first_counted - 1]
    assert not round_rows(before, COMMENT, round_id) and round_rows(before, BALLOT, round_id)
    assert round_rows(made, COUNTER, round_id) == counters
    assert round_rows(made, COMMENT, round_id) == round_rows(final, COMMENT, round_id)
    for table in (BALLOT, ROUND_KEY):
        assert round_rows(made, table, round_id) == []
    assert made.rows[TOKEN] == []

    # The comments: their rowids (the order they lie in the file) and their ids are not the order they came in.
    text, theme, id_ = (final.column(COMMENT, name) for name in ("text", "theme_key", "id"))
    comments = round_rows(final, COMMENT, round_id)
    submitted = [(t, body) for s in observed.submissions for t, body in s.comments]
    assert len(submitted) >= 12 and sorted(submitted) == sorted((row[theme], row[text]) for row in comments)
    position = {entry: index for index, entry in enumerate(submitted)}
    for order in (sorted(comments), sorted(comments, key=lambda row: row[id_])):  # by rowid, by id
        sequence = [position[(row[theme], row[text])] for row in order]
        assert sequence != sorted(sequence) and sequence != sorted(sequence, reverse=True)
        by_theme = [position[(row[theme], row[text])] for row in sorted(order, key=lambda row: row[theme])]
        assert by_theme != sorted(by_theme, key=lambda i: (submitted[i][0], i))  # nor within each theme
    assert {uuid.UUID(row[id_]).version for row in comments} == {4}


# --- The files themselves ------------------------------------------------------------------------


def test_the_data_folder_is_its_owners_alone_and_so_are_the_database_its_log_and_the_key_file(observed, tmp_path):
    data = Path(settings.DATA_DIR)
    database = Path(connection.settings_dict["NAME"])
    assert data.stat().st_mode & 0o777 == 0o700
    assert database.parent == data
    for suffix in ("", "-wal", "-shm"):
        side = database.with_name(database.name + suffix)
        if suffix != "-shm":
            assert side.exists(), side
        if side.exists():
            assert side.stat().st_mode & 0o777 == 0o600, side
    secret_key = data / "secret_key"
    if secret_key.exists():
        assert secret_key.stat().st_mode & 0o777 == 0o600
    # A self-contained install makes its ballot key file on first start: readable by its owner only.
    key_file = data / f"attack-{secrets.token_hex(4)}.key"
    try:
        with override_settings(
            GENSIDIG_BALLOT_KEY="", GENSIDIG_BALLOT_KEY_FILE=key_file, GENSIDIG_BALLOT_KEY_CREATE=True
        ):
            made = keys.master_key()
        assert key_file.stat().st_mode & 0o777 == 0o600
        assert keys.parse_master_key(key_file.read_text(), source="the key file") == made
    finally:
        key_file.unlink(missing_ok=True)
