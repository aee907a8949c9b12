"""`gensidig check --deploy --fail-level WARNING` passes with the production settings in docs/deployment.md."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.test import override_settings

DOCS = Path(__file__).resolve().parent.parent / "docs" / "deployment.md"


def production_environment() -> dict[str, str]:
    """The KEY=value lines of the env file the deployment guide shows (its block after 'Production settings')."""
    text = DOCS.read_text()
    section = text[text.index("## Production settings") :]
    block = re.search(r"\n\n((?:    .+\n)+)", section).group(1)
    pairs = [line.strip().split("=", 1) for line in block.splitlines() if re.match(r"\s+[A-Z_]+=", line)]
    assert pairs, "no settings found in docs/deployment.md"
    return dict(pairs)


def test_the_deployment_check_passes_with_the_documented_production_settings(tmp_path):
    documented = production_environment()
    # A fresh server's environment: nothing of the test run's own (DJANGO_ALLOW_ASYNC_UNSAFE, DATABASE_URL).
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update(documented)
    env.update({"GENSIDIG_DATA_DIR": str(tmp_path)})  # the documented /var/lib/gensidig may not exist here
    gensidig = Path(sys.executable).with_name("gensidig")
    result = subprocess.run(  # noqa: S603 - our own console script
        [str(gensidig), "check", "--deploy", "--fail-level", "WARNING"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_without_any_csrf_middleware_our_own_check_fails_the_deployment_check():
    from django.conf import settings

    without = [m for m in settings.MIDDLEWARE if "Csrf" not in m]
    with override_settings(MIDDLEWARE=without):
        found = {message.id for message in run_checks(include_deployment_checks=True)}
    assert "gensidig.E001" in found
    assert "gensidig.E001" not in {message.id for message in run_checks(include_deployment_checks=True)}
