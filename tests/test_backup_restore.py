"""Backups and the restore drill on PostgreSQL (issue 11, item 8; docs/deployment.md "Backups and a restore drill").

An organisation with a closed campaign (roll-ups, and a team under k), a team with two closed
rounds and a round still open is backed up with the documented command (`pg_dump -Fc`) and
restored with `pg_restore` into a new, empty database, as the drill does. Every table comes back
row for row (the figure tables among them, each with rows to compare), the sequences go on where
they were, and the report, the roll-up and the figures export read the same from the restored
database. The master key that seals the open round is nowhere in the backup; with the key, kept
apart, the restored open round can still be counted, and without it it cannot.
"""

from __future__ import annotations

import base64
import datetime
import os
import re
import secrets
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from gensidig.models import (
    Campaign,
    Comment,
    ItemStatistic,
    RatingCounter,
    RollupParticipation,
    RollupStatistic,
    RollupTheme,
    Round,
    RoundKey,
    RoundSummary,
    ThemeStatistic,
    User,
)
from gensidig.models.choices import Role, RoundStatus
from gensidig.services.access import add_admin
from gensidig.services.ballots.keys import generate_master_key, parse_master_key, unopenable_rounds
from gensidig.services.campaigns import create_campaign, launch_campaign
from gensidig.services.organisation.chart import apply_import, read_chart
from gensidig.services.organisation.teams import ensure_login
from gensidig.services.survey.closing import close_campaign, close_round
from gensidig.services.survey.instruments import clear_caches
from gensidig.services.survey.rounds import reissue_links

from .factories import answer, answers_for, chief_link, closed_round, leader_links, make_team, start_round

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="dumps and restores with PostgreSQL's own tools; runs in the PostgreSQL pass (DATABASE_URL, CI=true)",
    ),
    pytest.mark.postgres_only,
    # pg_dump is another session: it sees only what was committed.
    pytest.mark.django_db(transaction=True),
]

# A director; chief A with 6 leaders (one of whom, a1, leads 5 more), chief B with 3 (under k)
# and chief C with 5.
CHART = [("director@k.dk", "Direktør", "", "Direktionen")]
CHART += [(f"{c}@k.dk", f"Chef {c}", "director@k.dk", f"Område {c}") for c in "abc"]
CHART += [(f"a{i}@k.dk", f"Leder a{i}", "a@k.dk", "Område A") for i in range(1, 7)]
CHART += [(f"b{i}@k.dk", f"Leder b{i}", "b@k.dk", "Område B") for i in range(1, 4)]
CHART += [(f"c{i}@k.dk", f"Leder c{i}", "c@k.dk", "Område C") for i in range(1, 6)]
CHART += [(f"a1x{i}@k.dk", f"Leder a1x{i}", "a1@k.dk", "Område A1") for i in range(1, 6)]

# Every table that holds results; each must have rows, or comparing it would prove nothing.
FIGURE_TABLES = (
    RatingCounter,
    Comment,
    ItemStatistic,
    ThemeStatistic,
    RoundSummary,
    RollupStatistic,
    RollupTheme,
    RollupParticipation,
)


@pytest.fixture
def pg_tools():
    """pg_dump and pg_restore from PATH, as an operator runs them. CI must have them."""
    tools = {name: shutil.which(name) for name in ("pg_dump", "pg_restore")}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"{', '.join(missing)} not on PATH: the backup test cannot run (apt-get install postgresql-client)"
            )
        pytest.skip(f"{', '.join(missing)} not on PATH (apt-get install postgresql-client)")
    return tools


def libpq_environment() -> dict[str, str]:
    """The test database's address for PostgreSQL's command-line tools (PG* variables)."""
    db = connection.settings_dict
    found = {
        "PGHOST": db.get("HOST") or "",
        "PGPORT": str(db.get("PORT") or ""),
        "PGUSER": db.get("USER") or "",
        "PGPASSWORD": db.get("PASSWORD") or "",
    }
    return {**os.environ, **{key: value for key, value in found.items() if value}}


def run_tool(*command) -> bytes:
    """Run one of PostgreSQL's tools against the test server and return what it printed.

    A failure shows the tool's own message (a pg_dump older than the server, a refused
    connection), not just an exit status.
    """
    done = subprocess.run(command, env=libpq_environment(), capture_output=True)  # noqa: S603 - from PATH
    assert done.returncode == 0, f"{Path(command[0]).name} failed: {done.stderr.decode(errors='replace')}"
    return done.stdout


def admin_connection():
    """A connection to the maintenance database, for CREATE and DROP DATABASE."""
    db = connection.settings_dict
    return psycopg.connect(
        dbname="postgres",
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        autocommit=True,
    )


@pytest.fixture
def restored_database():
    """The name of a new, empty database for the restore; dropped afterwards, whatever happened."""
    name = f"{connection.settings_dict['NAME']}_restore_{secrets.token_hex(4)}"
    with admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def connected_to(name: str):
    """Point Django's connection at another database of the same server (the restored one)."""
    original = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = name
    clear_caches()  # instruments are cached per process by id: read them from this database
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = original
        clear_caches()


# --- The organisation that is backed up ---------------------------------------------------------


def build_organisation():
    """A closed campaign with roll-ups, a team with two closed rounds (and comments), and a round still open."""
    chart = "\n".join(["email;name;manager_email;unit"] + [";".join(row) for row in CHART]).encode()
    organisation = apply_import(
        organisation_slug="kommune", organisation_name="Kommune", chart=read_chart(data=chart, filename="chart.csv")
    ).organisation
    campaign = create_campaign(
        organisation=organisation,
        name="Forår",
        root_team=None,
        opens_on=timezone.localdate(),
        closes_at=timezone.now() + datetime.timedelta(days=14),
    )
    launch_campaign(campaign=campaign)
    for round_ in Round.objects.filter(campaign=campaign):
        for index, link in enumerate(reissue_links(round_=round_)):
            if link.person.email in {"c5@k.dk", "a1x5@k.dk"}:
                continue  # not everyone answers

            def value(key, scale, i=index):
                return 0 if (i + len(key)) % 7 == 0 else 1 + (i + len(key) + len(scale)) % 5

            answer(link, answers_for(round_, link.role, value))
    close_campaign(campaign=campaign)
    # Accounts are in the backup too: chief A's and HR's.
    ensure_login(person=organisation.people.get(email="a@k.dk"))
    add_admin(email="hr@k.dk", organisation_slug=organisation.slug)

    team = make_team(leaders=7, organisation=organisation)
    closed_round(team, answering=6, value=4, comments={"direction": "Mere retning, tak"})
    closed_round(team, answering=7, value=lambda key, scale: 2 + len(key) % 4, comments={"sparring": "Tid til os"})
    open_round_, links = start_round(team)
    for link in leader_links(links)[:5]:
        answer(link, answers_for(open_round_, Role.LEADER, 5))
    answer(chief_link(links), answers_for(open_round_, Role.CHIEF, 3))
    return organisation, campaign, team, open_round_


# --- Reading both databases ----------------------------------------------------------------------


def _comparable(value):
    return bytes(value) if isinstance(value, memoryview) else value


def every_row(name: str) -> dict[str, list]:
    """Every table of the public schema with all its rows, in a fixed order; and every sequence's position."""
    db = connection.settings_dict
    with psycopg.connect(
        dbname=name,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
    ) as reader:
        tables = [
            row[0]
            for row in reader.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            ).fetchall()
        ]
        found = {}
        for table in tables:
            rows = reader.execute(f'SELECT * FROM "{table}"').fetchall()
            found[table] = sorted((tuple(_comparable(v) for v in row) for row in rows), key=repr)
        for (sequence,) in reader.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' ORDER BY sequencename"
        ).fetchall():
            found[f"sequence {sequence}"] = reader.execute(f'SELECT last_value, is_called FROM "{sequence}"').fetchall()
    return found


CSRF_VALUE = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]*(")')


def pages_as_shown(client, *, hr, campaign: Campaign, campaign_round: Round, team_round: Round) -> dict[str, bytes]:
    """What chiefs and HR read: reports, a theme page with its comments, the figures export and the roll-up."""
    shown = {}
    client.force_login(team_round.team.chief.user)  # a session in whichever database is connected
    for url in (
        reverse("gensidig:report", args=[team_round.public_id]),
        reverse("gensidig:report-theme", args=[team_round.public_id, "sparring"]),
        reverse("gensidig:figures-csv", args=[team_round.public_id]),
    ):
        shown[url] = client.get(url)
    client.force_login(campaign_round.team.chief.user)
    url = reverse("gensidig:report", args=[campaign_round.public_id])
    shown[url] = client.get(url)
    client.force_login(hr)
    url = reverse("gensidig:rollup-start", args=[campaign.public_id])
    shown[url] = client.get(url, follow=True)
    for url, response in shown.items():
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        # The one thing that differs on every request by design.
        shown[url] = CSRF_VALUE.sub(rb"\1-\2", body)
    return shown


def restore_drill(tools, dump: Path, database: str) -> None:
    """What docs/deployment.md's drill runs: pg_restore of the nightly dump into an empty database."""
    run_tool(tools["pg_restore"], "--no-owner", "--exit-on-error", f"--dbname={database}", str(dump))


# --- The drill ----------------------------------------------------------------------------------


def test_a_nightly_dump_restores_every_figure_and_report_unchanged(pg_tools, restored_database, tmp_path, client):
    _organisation, campaign, team, _open_round = build_organisation()
    for model in FIGURE_TABLES:
        assert model.objects.exists(), f"{model.__name__} has no rows: comparing it would prove nothing"
    dump = tmp_path / "gensidig.dump"
    run_tool(pg_tools["pg_dump"], "--format=custom", f"--file={dump}", connection.settings_dict["NAME"])
    restore_drill(pg_tools, dump, restored_database)

    before, after = every_row(connection.settings_dict["NAME"]), every_row(restored_database)
    assert set(after) == set(before)
    for table in sorted(before):
        assert after[table] == before[table], f"{table} differs after the restore"
    for model in FIGURE_TABLES:
        assert before[model._meta.db_table], model.__name__

    hr = User.objects.get(email="hr@k.dk")
    campaign_round = Round.objects.get(campaign=campaign, team__chief__email="a@k.dk")
    team_round = Round.objects.filter(team=team, status=RoundStatus.CLOSED).order_by("-closed_on", "-pk").first()
    shown_before = pages_as_shown(
        client, hr=hr, campaign=campaign, campaign_round=campaign_round, team_round=team_round
    )
    # The pages compared show figures and a comment, so a figure that came back wrong would show.
    assert b"Tid til os" in shown_before[reverse("gensidig:report-theme", args=[team_round.public_id, "sparring"])]
    with connected_to(restored_database):
        # Signing in and reading write a session and audit rows: to the restored database now.
        shown_after = pages_as_shown(
            client,
            hr=User.objects.get(email="hr@k.dk"),
            campaign=Campaign.objects.get(pk=campaign.pk),
            campaign_round=Round.objects.get(pk=campaign_round.pk),
            team_round=Round.objects.get(pk=team_round.pk),
        )
    assert shown_after.keys() == shown_before.keys()
    for url in shown_before:
        assert shown_after[url] == shown_before[url], f"{url} reads differently from the restored database"


def test_the_backup_holds_no_master_key_and_the_key_kept_apart_counts_the_restored_open_round(
    pg_tools, restored_database, tmp_path
):
    _organisation, _campaign, _team, open_round_ = build_organisation()
    master = parse_master_key(settings.GENSIDIG_BALLOT_KEY, source="the test settings")
    round_key = RoundKey.objects.get(round=open_round_)
    dump = tmp_path / "gensidig.dump"
    run_tool(pg_tools["pg_dump"], "--format=custom", f"--file={dump}", connection.settings_dict["NAME"])
    # The backup as bytes, and as the SQL it restores to (the custom format compresses its data).
    as_sql = run_tool(pg_tools["pg_restore"], "--file=-", str(dump))
    readings = (dump.read_bytes(), as_sql, as_sql.lower())
    raw = master.secret
    spellings = {
        raw,
        raw.hex().encode(),
        base64.b64encode(raw),
        base64.b64encode(raw).rstrip(b"="),
        base64.urlsafe_b64encode(raw),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
        master.encoded().encode(),
    }
    # The same search finds the round's wrapped key and the sealed ballots (bytea, written as hex).
    assert bytes(round_key.wrapped_private_key).hex().encode() in as_sql
    assert bytes(round_key.public_key).hex().encode() in as_sql
    for spelling in spellings:
        assert all(spelling not in reading for reading in readings), "the master key is in the backup"

    restore_drill(pg_tools, dump, restored_database)
    with connected_to(restored_database):
        restored_round = Round.objects.get(pk=open_round_.pk)
        # A server given another key cannot open it: without the key kept apart, its answers are lost.
        assert [found.pk for found, _why in unopenable_rounds(master=generate_master_key())] == [restored_round.pk]
        # With the key, the restored round opens and counts every ballot that was in the backup.
        assert unopenable_rounds(master=master) == []
        close_round(round_=restored_round)
        assert RoundSummary.objects.get(round=restored_round).leader_responses == 5
        means = set(
            ItemStatistic.objects.filter(round=restored_round, role=Role.LEADER, withheld=False).values_list(
                "mean", flat=True
            )
        )
        assert means == {5}, "the five sealed answers of 5 counted from the restored backup"
