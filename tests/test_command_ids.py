"""Every command that takes a round's id works with any id a round can have (issue 10, item 7)."""

import os
import subprocess
import sys

import pytest
from django.core.management import call_command

from gensidig.models import Round
from gensidig.models.fields import new_public_id

from .factories import make_team, start_round

pytestmark = pytest.mark.django_db


def test_new_ids_never_begin_with_a_dash():
    assert not [i for i in (new_public_id() for _ in range(5000)) if i.startswith("-")]


def test_a_round_whose_id_begins_with_a_dash_can_be_closed_and_relinked_from_the_shell(capsys):
    round_, _links = start_round(make_team(leaders=3))
    Round.objects.filter(pk=round_.pk).update(public_id="-Xy12ab34cd")  # as ids were made before
    call_command("links", "--", "-Xy12ab34cd")
    assert "/a/" in capsys.readouterr().out
    call_command("close_round", "--", "-Xy12ab34cd")
    assert Round.objects.get(pk=round_.pk).is_closed


@pytest.mark.django_db(transaction=True)
def test_the_gensidig_command_line_takes_a_dashed_id_after_a_double_dash():
    round_, _links = start_round(make_team(leaders=3))
    Round.objects.filter(pk=round_.pk).update(public_id="-Qq12ab34cd")
    from django.conf import settings
    from django.db import connection

    database = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{database['NAME']}"
    else:
        url = f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
    # The same database and master key as the test, in a process of its own, as a shell would run it.
    env = {**os.environ, "DATABASE_URL": url, "GENSIDIG_BALLOT_KEY": settings.GENSIDIG_BALLOT_KEY}
    result = subprocess.run(
        [sys.executable, "-m", "gensidig.cli", "close-round", "--", "-Qq12ab34cd"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Closed round" in result.stdout
    assert Round.objects.get(pk=round_.pk).is_closed
