"""The production server when its PostgreSQL stops, is slow, or has a table locked: a 503 page
with Retry-After in bounded time, /healthz/ that says so, and recovery by itself when it returns.

The database here is a throwaway cluster this test starts and stops itself (initdb, pg_ctl) on a
port of its own; the machine's PostgreSQL service is never touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from .test_serve import free_port

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="runs in the PostgreSQL pass (its own throwaway cluster)"
    ),
    pytest.mark.postgres_only,
]

STATEMENT_TIMEOUT = 2  # seconds, for the server under test
BOUND = 8  # seconds: the most a visitor may wait for the 503 page
FAKE_TOKEN = "A" * 43  # the answer-link alphabet, so the lookup reaches the database


@dataclass
class Cluster:
    folder: Path
    port: int

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(  # noqa: S603 - PostgreSQL's own tool, our arguments
            [*_as_postgres(), "pg_ctl", "-D", str(self.folder / "data"), "-w", "-t", "30", *args],
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-o", options, "-l", str(self.folder / "log"), "start")

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "stop")

    @property
    def url(self) -> str:
        return f"postgres://root@127.0.0.1:{self.port}/gensidig"

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(f"postgresql://root@127.0.0.1:{self.port}/gensidig", autocommit=True)


def _as_postgres() -> list[str]:
    # initdb and the server refuse to run as root; CI runs as root.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _a_folder_everyone_can_reach() -> str:
    """The temporary folder, or another, whose every parent the postgres user may pass through.

    Some machines keep /tmp for root alone (mode 700); /var/tmp and /dev/shm are open to all.
    """
    for base in (tempfile.gettempdir(), "/var/tmp", "/dev/shm"):  # noqa: S108 - only to find one that is open
        path = Path(base)
        if path.is_dir() and all(os.stat(folder).st_mode & 0o001 for folder in (path, *path.parents)):
            return base
    pytest.fail("no temporary folder that the postgres user can reach")


@pytest.fixture
def cluster():
    if not (shutil.which("initdb") and shutil.which("pg_ctl")):
        message = "initdb and pg_ctl are needed to start a throwaway PostgreSQL cluster"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; a missing database in CI is a failure, not a skip.")
        pytest.skip(message)
    # Not under pytest's temporary folder: its parents are root's alone, and the server runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="gensidig-cluster-", dir=_a_folder_everyone_can_reach()))
    folder.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    subprocess.run(  # noqa: S603
        [*_as_postgres(), "initdb", "-D", str(folder / "data"), "-U", "root", "-A", "trust", "--no-sync"],
        check=True,
        capture_output=True,
    )
    found = Cluster(folder=folder, port=free_port())
    found.start()
    with psycopg.connect(f"postgresql://root@127.0.0.1:{found.port}/postgres", autocommit=True) as admin:
        admin.execute("CREATE DATABASE gensidig")
    try:
        yield found
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            found.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def server(cluster, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "GENSIDIG_DATA_DIR": str(tmp_path),
        "DEBUG": "false",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": cluster.url,
        "GENSIDIG_BALLOT_KEY_CREATE": "true",
        "GENSIDIG_DB_STATEMENT_TIMEOUT": str(STATEMENT_TIMEOUT),
        "GENSIDIG_DB_CONNECT_TIMEOUT": "2",
        # As when another test (or a batch script) ran a job in this process first: `serve` must
        # still bound its statements. CI once hung here for want of this.
        "GENSIDIG_PROCESS": "job",
    }
    gensidig = Path(sys.executable).with_name("gensidig")
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [str(gensidig), "serve", "--migrate", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail("the server stopped: " + process.stdout.read().decode())
            try:
                if get(base + "/healthz/").status == 200:
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("the server did not answer within 90 s")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass
class Answer:
    status: int
    headers: dict
    body: str
    seconds: float


def get(url: str, *, language: str = "da") -> Answer:
    started = time.monotonic()
    request = urllib.request.Request(url, headers={"Accept-Language": language})  # noqa: S310 - localhost
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return Answer(response.status, dict(response.headers), response.read().decode(), time.monotonic() - started)
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read().decode(), time.monotonic() - started)


def wait_for(url: str, status: int, *, within: float) -> Answer:
    deadline = time.monotonic() + within
    while True:
        found = get(url)
        if found.status == status or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_a_stopped_database_gives_503_pages_in_bounded_time_and_the_server_recovers_by_itself(cluster, server):
    healthy = get(server + "/healthz/")
    assert healthy.status == 200
    assert "database: ok" in healthy.body
    assert get(server + f"/a/{FAKE_TOKEN}/").status in {200, 404}

    cluster.stop()

    health = get(server + "/healthz/")
    assert health.status == 503, health.body
    assert "database: unavailable" in health.body
    assert int(health.headers["Retry-After"]) > 0
    assert health.seconds < BOUND
    for language, words in (("da", "ikke tilgængelig"), ("en", "not available")):
        page = get(server + f"/a/{FAKE_TOKEN}/", language=language)
        assert page.status == 503, page.body[:300]
        assert int(page.headers["Retry-After"]) > 0
        assert words in page.body
        assert page.seconds < BOUND

    cluster.start()

    back = wait_for(server + "/healthz/", 200, within=20)
    assert back.status == 200, back.body
    assert get(server + f"/a/{FAKE_TOKEN}/").status in {200, 404}


def test_a_locked_table_gives_a_503_after_the_statement_timeout_not_a_hung_worker(cluster, server):
    with cluster.connect() as dba:
        dba.execute("BEGIN")
        dba.execute("LOCK TABLE gensidig_answertoken IN ACCESS EXCLUSIVE MODE")
        page = get(server + f"/a/{FAKE_TOKEN}/")
        dba.execute("ROLLBACK")
    assert page.status == 503, page.body[:300]
    assert STATEMENT_TIMEOUT <= page.seconds < BOUND
    assert "Retry-After" in page.headers
    # The worker was not killed: it goes on serving.
    assert get(server + f"/a/{FAKE_TOKEN}/").status in {200, 404}
