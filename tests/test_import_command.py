"""`gensidig import-org FILE --org SLUG`: preview by default, apply with --yes, refuse a broken file."""

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from gensidig.cli import main
from gensidig.models import Organisation, Person, Team, TeamMembership

from .services.test_orgchart import CHART, DANISH_NAME, chart_csv, chart_xlsx

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_org", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (Organisation, Person, Team, TeamMembership)}


@pytest.fixture
def chart_file(tmp_path):
    path = tmp_path / "organisation.csv"
    path.write_bytes(chart_csv(delimiter=";", encoding="cp1252"))
    return path


@pytest.fixture
def no_prompts(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the command must not ask anything")

    monkeypatch.setattr("builtins.input", refuse)


def test_without_yes_it_shows_the_preview_says_how_to_apply_and_changes_nothing(chart_file, no_prompts):
    out, _err = run(str(chart_file), "--org", "kommune")

    assert row_counts() == {"Organisation": 0, "Person": 0, "Team": 0, "TeamMembership": 0}
    assert "The organisation 'kommune' is new." in out
    assert "People: 8 new, 0 changed, 0 unchanged, 0 leaving." in out
    assert "Teams: 4 formed" in out
    assert f"+ chef.aeldre@kommune.dk ({DANISH_NAME})" in out
    assert "+ Ældre og Sundhed [aeldre-og-sundhed], chief chef.aeldre@kommune.dk, 2 leaders, in Direktionen" in out
    assert f"gensidig import-org {chart_file} --org kommune --yes" in out


def test_with_yes_it_applies_the_chart_and_names_a_new_organisation(chart_file, no_prompts):
    out, _err = run(str(chart_file), "--org", "kommune", "--org-name", "Kommunen", "--yes")

    assert "Imported organisation.csv into 'kommune'." in out
    organisation = Organisation.objects.get(slug="kommune")
    assert organisation.name == "Kommunen"
    assert Person.objects.filter(organisation=organisation).count() == len(CHART)
    assert Person.objects.get(email="chef.aeldre@kommune.dk").name == DANISH_NAME
    assert Team.objects.filter(organisation=organisation, active=True).count() == 4

    out, _err = run(str(chart_file), "--org", "kommune")
    assert "People: 0 new, 0 changed, 8 unchanged, 0 leaving." in out
    assert "nothing to apply" in out


def test_an_xlsx_file_is_imported_too(tmp_path):
    path = tmp_path / "diagram.xlsx"
    path.write_bytes(chart_xlsx())
    run(str(path), "--org", "kommune", "--yes")
    assert Organisation.objects.get(slug="kommune").name == "kommune"
    assert Person.objects.count() == len(CHART)


def test_the_preview_lists_changes_and_only_the_first_twenty_of_a_long_list(tmp_path):
    rows = [("chef@k.dk", "Chef", "", "Stab")] + [(f"l{n}@k.dk", f"L{n}", "chef@k.dk", "") for n in range(25)]
    path = tmp_path / "chart.csv"
    path.write_bytes(chart_csv(rows))
    run(str(path), "--org", "kommune", "--yes")
    path.write_bytes(chart_csv([(*rows[0][:3], "Staben"), *rows[1:24], ("ny@k.dk", "Ny", "chef@k.dk", "")]))

    out, _err = run(str(path), "--org", "kommune")

    assert "People: 1 new, 1 changed, 23 unchanged, 2 leaving." in out
    assert "~ chef@k.dk: unit 'Stab' -> 'Staben'" in out
    assert "- l24@k.dk (L24)" in out
    assert "~ Staben [stab]: renamed from 'Stab'; joining: ny@k.dk; leaving: l23@k.dk, l24@k.dk" in out
    assert Person.objects.get(email="chef@k.dk").unit == "Stab"  # only previewed

    path.write_bytes(chart_csv(rows + [(f"n{n}@k.dk", "N", "chef@k.dk", "") for n in range(30)]))
    out, _err = run(str(path), "--org", "kommune")
    assert "  ... and 10 more" in out


def test_a_file_with_errors_prints_each_with_its_line_fails_and_writes_nothing(tmp_path):
    rows = [*CHART, ("Direktor@Kommune.dk", "Twice", "", "X"), ("lost@kommune.dk", "Lost", "ghost@kommune.dk", "X")]
    path = tmp_path / "chart.csv"
    path.write_bytes(chart_csv(rows))
    err = io.StringIO()

    with pytest.raises(CommandError, match=re.escape("2 problems in chart.csv; nothing was imported")):
        call_command("import_org", str(path), "--org", "kommune", "--yes", stdout=io.StringIO(), stderr=err)

    assert "Line 10: direktor@kommune.dk is also on line 2" in err.getvalue()
    assert "Line 11: the manager ghost@kommune.dk is not in the file" in err.getvalue()
    assert row_counts() == {"Organisation": 0, "Person": 0, "Team": 0, "TeamMembership": 0}


def test_the_console_command_exits_non_zero_on_errors(tmp_path, capsys, monkeypatch):
    # A command run from the console closes the database connections at the end; the test still needs its own.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    monkeypatch.delenv("GENSIDIG_PROCESS", raising=False)  # main() marks the process as a job
    path = tmp_path / "chart.csv"
    path.write_bytes(b"email;name\nanna@kommune.dk;Anna\n")
    with pytest.raises(SystemExit) as exit_:
        main(["gensidig", "import-org", str(path), "--org", "kommune", "--yes", "--skip-checks"])
    assert exit_.value.code != 0
    assert "no column for: manager_email, unit" in capsys.readouterr().err
    assert not Organisation.objects.exists()


def test_a_missing_file_is_reported_clearly(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run(str(tmp_path / "nowhere.csv"), "--org", "kommune")
