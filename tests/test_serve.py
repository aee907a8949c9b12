"""`gensidig serve`: the production server really starts, serves pages and static files, and stops."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    port = free_port()
    env = {**os.environ, "GENSIDIG_DATA_DIR": str(tmp_path), "DEBUG": "false", "SITE_URL": f"http://127.0.0.1:{port}"}
    env.pop("DATABASE_URL", None)  # its own SQLite file, not the test database
    gensidig = Path(sys.executable).with_name("gensidig")
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [str(gensidig), "serve", "--migrate", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/healthz/", timeout=2) as response:  # noqa: S310 - localhost
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not answer within 60 s: " + process.stdout.read1().decode())
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_production_server_serves_pages_and_hashed_static_files(server):
    with urllib.request.urlopen(f"{server}/", timeout=5) as response:  # noqa: S310 - localhost
        page = response.read().decode()
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert response.headers["Referrer-Policy"] == "no-referrer"
    stylesheet = next(part.split('"')[0] for part in page.split('href="') if part.startswith("/static/gensidig/css/"))
    assert "." in stylesheet.rsplit("/", 1)[1].removesuffix(".css")  # a content hash in the name
    with urllib.request.urlopen(f"{server}{stylesheet}", timeout=5) as response:  # noqa: S310 - localhost
        assert response.status == 200
        assert "max-age" in response.headers["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_the_workers_never_inherit_the_database_connection_of_the_checks_before_serving(monkeypatch):
    # `serve` reads the database (the ballot-key check, migrations) before gunicorn forks its
    # workers; a connection left open would be one socket shared by every worker, and they hung.
    from django.core.management import call_command
    from django.db import connections

    from gensidig import serving

    from .factories import make_team, start_round

    start_round(make_team(leaders=5))
    open_at_fork = []
    monkeypatch.setattr(
        serving.GensidigServer, "run", lambda self: open_at_fork.append([c.connection for c in connections.all()])
    )
    call_command("serve", "--no-collectstatic")
    assert open_at_fork == [[None]]
