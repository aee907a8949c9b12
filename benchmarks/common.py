"""What the benchmarks share: their own PostgreSQL database, helper processes, small utilities.

Each benchmark runs as a script (`python benchmarks/<name>.py`), so this folder is on its import
path and `from common import ...` finds this module.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}


class BenchmarkFailed(Exception):
    """The benchmark could not run, or what it measured was wrong."""


class OverallTimeout(Exception):
    """The run went past --max-seconds."""


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gensidig.settings")
    import django

    django.setup()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def stop_process_group(process: subprocess.Popen, *, grace: float = 20) -> None:
    """Stop a process started in its own session, and everything it started."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10)):
        if process.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def run_command(command: list[str], *, env: dict[str, str], timeout: float, stdin: str | None = None) -> str:
    """Run a helper or `gensidig` command in the data folder and return its output; raise on failure."""
    label = " ".join(command[1:3])
    try:
        done = subprocess.run(
            command,
            env=env,
            cwd=env["GENSIDIG_DATA_DIR"],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BenchmarkFailed(f"`{label}` took more than {timeout:.0f} s") from None
    if done.returncode != 0:
        raise BenchmarkFailed(f"`{label}` failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def gensidig_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "gensidig", *args]


def versions(*packages: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for package in packages:
        with contextlib.suppress(PackageNotFoundError):
            found.append(f"{package} {version(package)}")
    return ", ".join(found)


@dataclass
class Postgres:
    url: str  # the benchmark's own database, created here and dropped at the end
    name: str
    admin_url: str
    where: str  # host:port, for messages (the URL may hold a password)

    @classmethod
    def from_url(cls, url: str) -> Postgres:
        parts = urllib.parse.urlsplit(url)
        name = parts.path.lstrip("/")
        if parts.scheme not in {"postgres", "postgresql"} or "bench" not in name:
            # The database is dropped afterwards: only ever one whose name says it is a benchmark's.
            raise BenchmarkFailed(f"--postgres-url must name a database with 'bench' in its name, not {url!r}")
        if parts.hostname not in LOOPBACK_NAMES:
            raise BenchmarkFailed(f"--postgres-url must be on this machine (127.0.0.1), not {parts.hostname!r}")
        admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
        return cls(url=url, name=name, admin_url=admin_url, where=f"{parts.hostname}:{parts.port or 5432}")

    def reachable(self) -> str | None:
        """None when PostgreSQL answers, else why not."""
        try:
            import psycopg
        except ImportError:
            return "psycopg is not installed"
        try:
            psycopg.connect(self.admin_url, connect_timeout=3).close()
        except psycopg.Error as exc:
            return str(exc).strip().splitlines()[0]
        return None

    def _admin(self, statement: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(sql.SQL(statement).format(sql.Identifier(self.name)))

    def create(self) -> None:
        self.drop()  # a leftover of an interrupted run
        self._admin("CREATE DATABASE {}")

    def drop(self) -> None:
        self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")
