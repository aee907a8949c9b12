"""Django's SQLite backend, with the database's files readable by their owner only.

SQLite makes its -wal and -shm files with the same permissions as the database file, so the
file is made 0600 before SQLite first opens it, and tightened if it already exists (DESIGN.md
2.1: whoever can read the data folder must not be able to read the database). `secure_delete`
(set in the connection's init_command) overwrites deleted content, so counted-and-deleted
ballots do not linger in free pages.
"""

import os
from pathlib import Path

from django.db.backends.sqlite3 import base

PRIVATE = 0o600
SIDE_FILES = ("", "-wal", "-shm", "-journal")


def make_private(name: str) -> None:
    """Create the database file 0600 if it is missing; make it and its side files 0600 if not."""
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE))
    for suffix in SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists() and side.stat().st_mode & 0o777 != PRIVATE:
            side.chmod(PRIVATE)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        make_private(str(conn_params.get("database", "")))
        return super().get_new_connection(conn_params)
