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


# Settings the app reads from the environment: a benchmark sets its own and drops the caller's.
APP_ENV_VARS = (
    "ALLOWED_HOSTS",
    "BEHIND_TLS_PROXY",
    "CONN_MAX_AGE",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "DEBUG",
    "DEFAULT_FROM_EMAIL",
    "DJANGO_SETTINGS_MODULE",
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_HOST_USER",
    "EMAIL_PORT",
    "EMAIL_TIMEOUT",
    "EMAIL_USE_SSL",
    "EMAIL_USE_TLS",
    "FORWARDED_ALLOW_IPS",
    "GENSIDIG_BENCHMARK_VIEWS",
    "GENSIDIG_DATA_DIR",
    "GUNICORN_TIMEOUT",
    "HOST",
    "LOG_LEVEL",
    "PORT",
    "SECRET_KEY",
    "SECURE_COOKIES",
    "SECURE_HSTS_SECONDS",
    "SECURE_SSL_REDIRECT",
    "SITE_URL",
    "STATIC_ROOT",
    "TIME_ZONE",
    "WEB_CONCURRENCY",
)
# Comments the benchmarks' leaders write (made up for them, in Danish with its letters).
COMMENT_PHRASES = (
    "Vi mangler tid til sparring i hverdagen.",
    "Mødet om budgettet gav god mening for os alle.",
    "Rammerne er tydelige, men prioriteringerne skifter ofte.",
    "Mere feedback på det daglige arbejde, tak.",
    "Godt samarbejde på tværs af områderne – især i foråret.",
    "Jeg savner retning i forandringerne og et “hvorfor”.",
    "We would like the agenda a week before.",
)
DATABASES = ("sqlite", "postgres")


class BenchmarkFailed(Exception):
    """The benchmark could not run, or what it measured was wrong."""


class OverallTimeout(Exception):
    """The run went past --max-seconds."""


def caller_env() -> dict[str, str]:
    """This process's environment without the app's settings, for a benchmark to add its own."""
    return {k: v for k, v in os.environ.items() if k not in APP_ENV_VARS}


def add_database_arguments(parser, *, default_postgres_url: str) -> None:
    parser.add_argument("--databases", default="sqlite,postgres", help="Comma-separated: sqlite, postgres.")
    parser.add_argument(
        "--postgres-url", default=default_postgres_url, help="Created, used and dropped (default %(default)s)."
    )
    parser.add_argument("--require-postgres", action="store_true", help="Fail (exit 2) when PostgreSQL is unreachable.")


def parse_databases(parser, args) -> None:
    """Turn --databases into a list, or stop with a usage error."""
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    if not args.databases or set(args.databases) - set(DATABASES):
        parser.error("--databases takes sqlite, postgres or both")


def limit_run_time(max_seconds: int) -> None:
    """Raise OverallTimeout after max_seconds, and leave cleanly on SIGTERM, so a run always ends."""

    def give_up(signum, _frame):
        if signum == signal.SIGALRM:
            raise OverallTimeout(f"the run took more than --max-seconds={max_seconds}")
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGALRM, give_up)
    signal.signal(signal.SIGTERM, give_up)
    signal.alarm(max_seconds)


def usable_postgres(postgres: Postgres, *, required: bool) -> bool:
    """Whether PostgreSQL answers. When it does not, say so and skip it, or, when it was
    required, fail the run."""
    why = postgres.reachable()
    if why is None:
        return True
    message = f"PostgreSQL is unreachable at {postgres.where} ({why})"
    if required:
        raise BenchmarkFailed(f"{message}; --require-postgres was given.")
    print(f"\n== {message}: skipped.", flush=True)
    return False


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
