"""What the benchmarks share: the app's environment, a fresh data folder and PostgreSQL database
for each run, helper processes, the production server, exit statuses, percentiles and small utilities.

Each benchmark runs as a script (`python benchmarks/<name>.py`), so this folder is on its import
path and `from common import ...` finds this module.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import math
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
# A helper process prints its result as one line that starts with this, followed by JSON.
DATA_MARKER = "GENSIDIG-BENCH-JSON "
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


def app_env(
    *, data_dir: Path, static_root: Path, site_url: str, database_url: str | None, **extra: str
) -> dict[str, str]:
    """The environment a benchmark's app process runs with: production settings (DEBUG off), fresh
    secrets, `data_dir` as its data folder, SQLite there unless `database_url` is given; `extra`
    adds the script's own settings (e-mail, the benchmark views, ...)."""
    env = caller_env()
    env.update(
        GENSIDIG_DATA_DIR=str(data_dir),
        STATIC_ROOT=str(static_root),
        SECRET_KEY=secrets.token_urlsafe(50),
        GENSIDIG_BALLOT_KEY=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="),
        SITE_URL=site_url,
        DEBUG="false",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


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


def each_database(args) -> Iterator[tuple[str, Postgres | None]]:
    """The databases of --databases in turn, as (kind, None for SQLite or the PostgreSQL database).

    --postgres-url is checked at once (a wrong one fails before anything runs); an unreachable
    PostgreSQL is skipped with a message when its turn comes, or fails the run with --require-postgres.
    """
    target = Postgres.from_url(args.postgres_url) if "postgres" in args.databases else None

    def databases() -> Iterator[tuple[str, Postgres | None]]:
        for kind in args.databases:
            if kind != "postgres":
                yield kind, None
            elif usable_postgres(target, required=args.require_postgres):
                yield kind, target

    return databases()


def fresh_database(cleanup: contextlib.ExitStack, *, prefix: str, postgres: Postgres | None) -> tuple[str, Path]:
    """Announce the database to be measured and give it a new, empty data folder (and, for
    PostgreSQL, a new database); both are removed when `cleanup` closes. Returns its title and the folder."""
    title = "SQLite" if postgres is None else f"PostgreSQL (database {postgres.name})"
    print(f"\n== {title}", flush=True)
    data_dir = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    cleanup.callback(shutil.rmtree, data_dir, ignore_errors=True)
    if postgres:
        postgres.create()
        cleanup.callback(postgres.drop)
    return title, data_dir


def settle_sqlite(path: Path) -> None:
    """SQLite's counterpart of Postgres.settle: the write-ahead log copied into the database file
    and emptied, so the next step does not pay for the last one's checkpoint."""
    import sqlite3

    connection = sqlite3.connect(path, timeout=30)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def finish(run: Callable[[], int], *, stopped: str) -> int:
    """Run a benchmark's body and turn how it ended into the exit status: its own when it ends, 2
    when it could not finish, 130 when interrupted (`stopped` names what was stopped then)."""
    try:
        return run()
    except (BenchmarkFailed, OverallTimeout) as exc:
        print(f"\nThe benchmark could not finish: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nInterrupted; {stopped} and the temporary data removed.", file=sys.stderr)
        return 130
    finally:
        signal.alarm(0)


def exit_status(reports, problem: str) -> int:
    """0 when every database's report passed; else 1, after saying on which ones (`problem`: what failed)."""
    failed = [report.title for report in reports if report.failed]
    if failed:
        print(f"{problem} on: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


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


def run_helper(argv: list[str], helpers: dict[str, Callable[[], None]]) -> int | None:
    """When the first argument names one of a script's helpers, run it and return its exit status
    (1, with the traceback, when it fails); otherwise None, for the script to run as the benchmark."""
    if not argv or argv[0] not in helpers:
        return None
    try:
        helpers[argv[0]]()
    except Exception:
        traceback.print_exc()
        return 1
    return 0


def helper_command(script: str, *args: str) -> list[str]:
    """The command that runs one of `script`'s helpers (its first argument names it) with this Python."""
    return [sys.executable, str(Path(script).resolve()), *args]


def helper_output(output: str) -> dict:
    """The result a helper printed (the line after DATA_MARKER)."""
    for line in output.splitlines():
        if line.startswith(DATA_MARKER):
            return json.loads(line[len(DATA_MARKER) :])
    raise BenchmarkFailed(f"the helper printed no result:\n{output}")


def stream_helper(
    script: str,
    name: str,
    spec: dict,
    *,
    env: dict[str, str],
    cleanup: contextlib.ExitStack,
    on_line: Callable[[str], None],
) -> dict:
    """Run `script`'s long helper `name` in its own session with `spec` as JSON on its input; hand
    every line it prints to `on_line` as it comes (progress), and return its result (the DATA_MARKER line).

    Its errors go to helper.log in the data folder; `cleanup` stops it and what it started, however
    the run ends."""
    log_path = Path(env["GENSIDIG_DATA_DIR"]) / "helper.log"
    with log_path.open("wb") as log:
        helper = subprocess.Popen(
            helper_command(script, name),
            env=env,
            cwd=env["GENSIDIG_DATA_DIR"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=True,
        )
    cleanup.callback(stop_process_group, helper)
    helper.stdin.write(json.dumps(spec))
    helper.stdin.close()
    result = None
    for line in helper.stdout:
        if line.startswith(DATA_MARKER):
            result = json.loads(line[len(DATA_MARKER) :])
        else:
            on_line(line)
    helper.wait()
    if helper.returncode != 0 or result is None:
        raise BenchmarkFailed(f"the helper failed ({helper.returncode}):\n{tail(log_path)}")
    return result


@contextlib.contextmanager
def production_server(env: dict[str, str], *, port: int, workers: int, log_path: Path) -> Iterator[str]:
    """`gensidig serve` (gunicorn sync workers) on 127.0.0.1:port until the block ends, however it
    ends; yields its base URL once /healthz/ answers."""
    command = gensidig_command("serve", "--host", HOST, "--port", str(port))
    command += ["--workers", str(workers), "--no-collectstatic"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, cwd=env["GENSIDIG_DATA_DIR"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_until_healthy(process, port, log_path)
        yield f"http://{HOST}:{port}"
    finally:
        stop_process_group(process)


def wait_until_healthy(process: subprocess.Popen, port: int, log_path: Path, timeout: float = 60) -> None:
    """Wait until the server on `port` says it is healthy; fail when it stops or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchmarkFailed(f"the server stopped at start ({process.returncode}):\n{tail(log_path)}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            connection = http.client.HTTPConnection(HOST, port, timeout=5)
            try:
                connection.request("GET", "/healthz/")
                response = connection.getresponse()
                # The body says "ok" and then what it checked (the database).
                if response.status == 200 and response.read().startswith(b"ok"):
                    return
            finally:
                connection.close()
        time.sleep(0.2)
    raise BenchmarkFailed(f"/healthz/ did not answer within {timeout:.0f} s:\n{tail(log_path)}")


@contextlib.contextmanager
def collected_static(env_for: Callable[[Path], dict[str, str]]) -> Iterator[Path]:
    """The static files collected once (hashed names, as in production) into a temporary folder
    for every database's server; yields the folder. `env_for(folder)` gives the app's environment."""
    with tempfile.TemporaryDirectory(prefix="gensidig-bench-static-") as static_dir:
        env = env_for(Path(static_dir))
        run_command(gensidig_command("collectstatic", "--no-input", "-v", "0"), env=env, timeout=300)
        yield Path(env["STATIC_ROOT"])


def percentile_ms(seconds: list[float], percent: int) -> float:
    """The `percent` percentile of durations in seconds, in milliseconds (inclusive method; NaN for none)."""
    if len(seconds) < 2:
        return seconds[0] * 1000 if seconds else math.nan
    return statistics.quantiles(seconds, n=100, method="inclusive")[percent - 1] * 1000


def nearest_rank(values: list[float], share: float) -> float:
    """The value `share` of the way up the sorted values (the nearest one; 0.9 gives the 90th percentile)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Statements:
    """Counts the SQL statements (and the writes among them) a Django connection runs, as
    `connection.execute_wrapper(Statements())`."""

    def __init__(self):
        self.total = self.writes = 0

    def __call__(self, execute, sql, params, many, context):
        self.total += 1
        if sql.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            self.writes += 1
        return execute(sql, params, many, context)


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

    def settle(self) -> None:
        """Write out what is dirty and clear dead rows now (CHECKPOINT, VACUUM ANALYZE), so that a
        step's background work does not land in the next timed step."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as connection:
            connection.execute("CHECKPOINT")
            connection.execute("VACUUM (ANALYZE)")

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
