"""The attacker's tool (tests/attacks/sqlite_wal.py) reads what SQLite wrote: else the attacks prove nothing.

These need no Django database: each builds a small SQLite database of its own in WAL mode.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from . import sqlite_wal


def open_database(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")  # only the checkpoints a test asks for
    db.execute("CREATE TABLE t (n INTEGER, text TEXT)")
    return db


def copy_of(path: Path, into: Path) -> Path:
    into.mkdir()
    for suffix in ("", "-wal", "-shm"):
        if path.with_name(path.name + suffix).exists():
            shutil.copyfile(path.with_name(path.name + suffix), into / (path.name + suffix))
    return into / path.name


def contents(state: sqlite_wal.State) -> list[tuple]:
    with state.connect() as db:
        rows = db.execute("SELECT n, text FROM t ORDER BY rowid").fetchall()
    db.close()
    return rows


def test_every_committed_state_in_the_log_is_rebuilt_in_order_and_the_last_is_what_sqlite_reads(tmp_path):
    path = tmp_path / "db.sqlite3"
    db = open_database(path)
    for n in range(5):
        db.execute("INSERT INTO t VALUES (?, ?)", (n, f"row {n} " + "x" * 3000 * n))  # some rows span pages
    db.execute("UPDATE t SET text = 'changed' WHERE n = 2")
    db.execute("DELETE FROM t WHERE n = 0")
    copy = copy_of(path, tmp_path / "copy")
    states = sqlite_wal.committed_states(copy, shm=copy.with_name(copy.name + "-shm"), into=tmp_path / "states")
    seen = [contents(state) for state in states if state.exact]
    rows = [(n, f"row {n} " + "x" * 3000 * n) for n in range(5)]
    for n in range(1, 6):
        assert rows[:n] in seen  # each insert is a state of its own
    assert [(0, rows[0][1]), (1, rows[1][1]), (2, "changed"), rows[3], rows[4]] in seen
    assert (
        seen[-1]
        == db.execute("SELECT n, text FROM t ORDER BY rowid").fetchall()
        == [
            rows[1],
            (2, "changed"),
            rows[3],
            rows[4],
        ]
    )
    db.close()


def test_frames_left_over_from_an_older_generation_of_the_log_are_not_taken_for_commits(tmp_path):
    path = tmp_path / "db.sqlite3"
    db = open_database(path)
    for n in range(20):
        db.execute("INSERT INTO t VALUES (?, ?)", (n, f"old {n} " + "o" * 2000))
    old = sqlite_wal.read_wal(path.with_name(path.name + "-wal"))
    db.execute("PRAGMA wal_checkpoint(PASSIVE)")  # every frame copied into the main file
    db.execute("INSERT INTO t VALUES (?, ?)", (100, "new"))  # the log restarts from its start, with new salts
    copy = copy_of(path, tmp_path / "copy")
    log = sqlite_wal.read_wal(copy.with_name(copy.name + "-wal"))
    assert log.header.salt1 != old.header.salt1 or log.header.salt2 != old.header.salt2
    assert len(log.commit_frames) == 1 and log.stale_bytes > 0  # the older frames are still in the file
    assert b"old 19" in copy.with_name(copy.name + "-wal").read_bytes()  # as bytes an attacker can read
    (state,) = sqlite_wal.committed_states(copy, into=tmp_path / "states")
    assert contents(state)[-1] == (100, "new") and len(contents(state)) == 21
    db.close()


def test_states_before_what_a_checkpoint_already_copied_are_marked_inexact(tmp_path):
    path = tmp_path / "db.sqlite3"
    db = open_database(path)
    reader = sqlite3.connect(path, isolation_level=None)
    for n in range(3):
        db.execute("INSERT INTO t VALUES (?, ?)", (n, "before"))
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM t").fetchall()  # a reader keeps the log from restarting
    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    db.execute("INSERT INTO t VALUES (?, ?)", (3, "after"))
    copy = copy_of(path, tmp_path / "copy")
    states = sqlite_wal.committed_states(copy, shm=copy.with_name(copy.name + "-shm"), into=tmp_path / "states")
    assert sqlite_wal.backfilled_frames(copy.with_name(copy.name + "-shm")) > 0
    assert [state.exact for state in states][-1] is True and False in [state.exact for state in states]
    assert contents(states[-1]) == [(0, "before"), (1, "before"), (2, "before"), (3, "after")]
    reader.execute("COMMIT")
    reader.close()
    db.close()


def test_a_file_that_is_not_a_log_is_refused(tmp_path):
    bogus = tmp_path / "bogus-wal"
    bogus.write_bytes(b"\x00" * 64)
    with pytest.raises(sqlite_wal.NotAWal):
        sqlite_wal.read_wal(bogus)
