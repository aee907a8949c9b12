"""A small reader of SQLite write-ahead logs, as a database reader with a copy of the files would write it.

A copy of an SQLite database in WAL mode is two files: the main file, holding the pages as they
were at the last checkpoint, and the -wal file, holding every page written since, frame after
frame. Each committed transaction ends with a commit frame. Applying the frames onto the main
file, up to each commit frame in turn, rebuilds every committed state the log still holds:
not only the latest one, but every one in between (https://www.sqlite.org/fileformat2.html#walformat).

The log starts with a 32-byte header (magic, format, page size, checkpoint sequence, two salts,
a checksum of the header), then frames: a 24-byte frame header (page number, the database size
in pages for a commit frame or 0, the two salts, a cumulative checksum) and one page. After a
checkpoint the log is restarted from its beginning with new salts, so its tail may still hold
frames of an older generation: those carry the old salts (or break the checksum chain), and are
not part of the database. The reader stops at the first frame that does not belong.

The -shm file, if it is copied too, tells how many frames a checkpoint has already copied into
the main file (nBackfill). The states at commits before that point are rebuilt onto a main file
that already holds some later pages, so they are marked inexact.
"""

from __future__ import annotations

import sqlite3
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

WAL_HEADER_SIZE = 32
FRAME_HEADER_SIZE = 24
MAGIC_LITTLE_ENDIAN = 0x377F0682  # checksums computed over little-endian 32-bit words
MAGIC_BIG_ENDIAN = 0x377F0683  # checksums computed over big-endian 32-bit words
SHM_BACKFILL_OFFSET = 96  # WalCkptInfo.nBackfill, after the two 48-byte copies of the index header
MASK = 0xFFFFFFFF


class NotAWal(ValueError):
    """The file is not an SQLite write-ahead log (or its header is damaged)."""


@dataclass(frozen=True)
class WalHeader:
    magic: int
    version: int
    page_size: int
    checkpoint_sequence: int
    salt1: int
    salt2: int
    checksum: tuple[int, int]

    @property
    def big_endian_checksums(self) -> bool:
        return self.magic == MAGIC_BIG_ENDIAN


@dataclass(frozen=True)
class Frame:
    index: int  # 1-based, as SQLite counts frames
    page_number: int
    database_pages: int  # > 0 only for a commit frame: the database's size in pages after it
    offset: int  # where the page's data starts in the -wal file
    page: bytes

    @property
    def is_commit(self) -> bool:
        return self.database_pages > 0


@dataclass(frozen=True)
class Wal:
    header: WalHeader | None
    frames: list[Frame]  # the valid frames of the current generation, in order
    size: int  # bytes in the file, stale frames included

    @property
    def generation(self) -> tuple[int, int, int]:
        if self.header is None:
            return (0, 0, 0)
        return (self.header.checkpoint_sequence, self.header.salt1, self.header.salt2)

    @property
    def commit_frames(self) -> list[Frame]:
        return [frame for frame in self.frames if frame.is_commit]

    @property
    def stale_bytes(self) -> int:
        """Bytes after the last valid frame: old generations, or a transaction never committed."""
        if self.header is None:
            return self.size
        page = self.header.page_size
        return self.size - WAL_HEADER_SIZE - len(self.frames) * (FRAME_HEADER_SIZE + page)


@dataclass(frozen=True)
class State:
    """One committed state of the database, as a file of its own."""

    path: Path
    generation: tuple[int, int, int]  # (checkpoint sequence, salt-1, salt-2) of the log it came from
    commit_frame: int  # 0 for the main file alone (no valid commit in the log)
    exact: bool  # False if a checkpoint had already copied later frames into the main file

    @property
    def key(self) -> tuple[int, int, int, int]:
        """Equal for the same commit read from two copies of the same log generation."""
        return (*self.generation, self.commit_frame)

    def connect(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.path}?immutable=1", uri=True)


def _checksum(data: bytes, s0: int, s1: int, *, big_endian: bool) -> tuple[int, int]:
    """SQLite's WAL checksum: over pairs of 32-bit words, s0 += x[i] + s1, s1 += x[i+1] + s0."""
    if len(data) % 8:
        raise ValueError("WAL checksums run over a multiple of 8 bytes")
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & MASK
        s1 = (s1 + words[i + 1] + s0) & MASK
    return s0, s1


def read_header(data: bytes) -> WalHeader | None:
    """The log's header, or None if the log is empty or its header does not check out."""
    if len(data) < WAL_HEADER_SIZE:
        return None
    magic, version, page_size, sequence, salt1, salt2, c1, c2 = struct.unpack(">8I", data[:WAL_HEADER_SIZE])
    if magic not in (MAGIC_LITTLE_ENDIAN, MAGIC_BIG_ENDIAN):
        raise NotAWal(f"bad magic number {magic:#x}")
    if page_size == 1:  # how the format writes 65536
        page_size = 65536
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        raise NotAWal(f"bad page size {page_size}")
    header = WalHeader(magic, version, page_size, sequence, salt1, salt2, (c1, c2))
    if _checksum(data[:24], 0, 0, big_endian=header.big_endian_checksums) != (c1, c2):
        return None  # a header that was never completely written: the log holds nothing
    return header


def read_wal(path: Path | str) -> Wal:
    """Parse a -wal file: its header and every frame of its current generation, up to the first one that is not."""
    data = Path(path).read_bytes() if Path(path).exists() else b""
    header = read_header(data)
    if header is None:
        return Wal(header=None, frames=[], size=len(data))
    page_size = header.page_size
    s0, s1 = header.checksum
    frames = []
    offset = WAL_HEADER_SIZE
    while offset + FRAME_HEADER_SIZE + page_size <= len(data):
        page_number, database_pages, salt1, salt2, c1, c2 = struct.unpack(
            ">6I", data[offset : offset + FRAME_HEADER_SIZE]
        )
        if (salt1, salt2) != (header.salt1, header.salt2) or page_number == 0:
            break  # a frame of an older generation of the log
        page_start = offset + FRAME_HEADER_SIZE
        page = data[page_start : page_start + page_size]
        s0, s1 = _checksum(data[offset : offset + 8], s0, s1, big_endian=header.big_endian_checksums)
        s0, s1 = _checksum(page, s0, s1, big_endian=header.big_endian_checksums)
        if (s0, s1) != (c1, c2):
            break  # half-written, or left over from before a restart that reused these salts
        frames.append(Frame(len(frames) + 1, page_number, database_pages, page_start, page))
        offset = page_start + page_size
    # Frames after the last commit frame belong to a transaction that never committed.
    while frames and not frames[-1].is_commit:
        frames.pop()
    return Wal(header=header, frames=frames, size=len(data))


def backfilled_frames(shm_path: Path | str | None) -> int:
    """How many frames a checkpoint has already copied into the main file, from the -shm file (0 if unknown)."""
    if shm_path is None or not Path(shm_path).exists():
        return 0
    data = Path(shm_path).read_bytes()
    if len(data) < SHM_BACKFILL_OFFSET + 4:
        return 0
    # The wal-index is in the machine's own byte order.
    return int.from_bytes(data[SHM_BACKFILL_OFFSET : SHM_BACKFILL_OFFSET + 4], "little")


def committed_states(
    main: Path | str,
    wal: Path | str | None = None,
    *,
    shm: Path | str | None = None,
    into: Path | str | None = None,
    skip: set[tuple[int, int, int, int]] | frozenset = frozenset(),
) -> list[State]:
    """Every committed state a copy of the database holds, oldest first, each written as a database file.

    `wal` defaults to the main file's -wal beside it. States whose key is in `skip` (already
    rebuilt from another copy) are not written again. The files go into `into`, or a new
    temporary folder; whoever calls this removes them.
    """
    main = Path(main)
    wal_path = Path(wal) if wal is not None else main.with_name(main.name + "-wal")
    log = read_wal(wal_path)
    folder = Path(into) if into is not None else Path(tempfile.mkdtemp(prefix="sqlite-states-"))
    folder.mkdir(parents=True, exist_ok=True)
    image = bytearray(main.read_bytes())
    backfilled = backfilled_frames(shm)
    stem = f"{main.stem}-{'-'.join(str(part) for part in log.generation)}"
    states = []

    def write(commit_frame: int, pages: int | None) -> None:
        key = (*log.generation, commit_frame)
        if key in skip:
            return
        path = folder / f"{stem}-{commit_frame:06d}.sqlite3"
        content = bytes(image if pages is None else image[: pages * log.header.page_size])
        path.write_bytes(content)
        states.append(State(path, log.generation, commit_frame, exact=commit_frame >= backfilled))

    if not log.commit_frames:
        write(0, None)
        return states
    page_size = log.header.page_size
    for frame in log.frames:
        start = (frame.page_number - 1) * page_size
        if len(image) < start:
            image.extend(bytes(start - len(image)))
        image[start : start + page_size] = frame.page
        if frame.is_commit:
            write(frame.index, frame.database_pages)
    return states


def table_rows(connection: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Every table's rows, each with its rowid first, in the order they lie in the file (rowid order)."""
    tables = [
        name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    ]
    rows = {}
    for name in tables:
        quoted = '"' + name.replace('"', '""') + '"'
        try:
            rows[name] = [tuple(row) for row in connection.execute(f"SELECT rowid, * FROM {quoted}")]
        except sqlite3.OperationalError:  # a WITHOUT ROWID table
            rows[name] = [tuple(row) for row in connection.execute(f"SELECT * FROM {quoted}")]
    return rows


def columns(connection: sqlite3.Connection, table: str) -> list[str]:
    quoted = '"' + table.replace('"', '""') + '"'
    return [row[1] for row in connection.execute(f"PRAGMA table_info({quoted})")]
