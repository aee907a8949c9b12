"""Project-wide invariants: migrations, settings that protect people, the catalogue."""

import io
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import IntegrityError
from django.test import Client

import gensidig

from .factories import OrganisationFactory

PACKAGE = Path(gensidig.__file__).parent
CATALOGUE = PACKAGE / "locale" / "da" / "LC_MESSAGES" / "django.po"


@pytest.mark.django_db
def test_no_model_change_is_missing_a_migration():
    out = io.StringIO()
    call_command("makemigrations", "gensidig", "--check", "--dry-run", stdout=out)


def test_passwords_are_hashed_with_argon2():
    from gensidig import settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_danish_is_the_default_and_english_is_offered():
    assert settings.LANGUAGE_CODE == "da"
    assert [code for code, _name in settings.LANGUAGES] == ["da", "en"]


@pytest.mark.django_db
def test_every_page_sends_a_strict_content_security_policy_and_no_referrer():
    response = Client().get("/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_no_page_loads_anything_from_another_site():
    content = Client().get("/").content.decode()
    assert not re.search(r'(src|href)="(https?:)?//', content)


@pytest.mark.django_db
def test_an_organisation_cannot_set_the_threshold_below_three():
    with pytest.raises(IntegrityError):
        OrganisationFactory(anonymity_threshold=2)


def test_the_threshold_defaults_to_five():
    assert settings.GENSIDIG_DEFAULT_THRESHOLD == 5
    assert settings.GENSIDIG_MINIMUM_THRESHOLD == 3


def test_the_danish_catalogue_is_complete():
    catalogue = polib.pofile(str(CATALOGUE))
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert not untranslated, untranslated[:10]
    assert not fuzzy, fuzzy[:10]
    assert catalogue.percent_translated() == 100


def test_the_compiled_catalogue_matches_the_source():
    assert CATALOGUE.with_suffix(".mo").exists(), "run `make messages` to compile the catalogue"
    compiled = polib.mofile(str(CATALOGUE.with_suffix(".mo")))
    source = polib.pofile(str(CATALOGUE))

    def pairs(entries):
        return {(e.msgctxt, e.msgid, e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in entries if e.msgid}

    assert pairs(compiled) == pairs(e for e in source if e.translated() and not e.obsolete), (
        "the .mo file is out of date: run `make messages`"
    )


def test_every_template_string_is_in_the_catalogue():
    """A string wrapped for translation but missing from the catalogue would show in English to Danes."""
    msgids = {entry.msgid for entry in polib.pofile(str(CATALOGUE))}
    pattern = re.compile(r'{%\s*translate\s+"([^"]+)"')
    missing = []
    for template in (PACKAGE / "templates").rglob("*.html"):
        for msgid in pattern.findall(template.read_text()):
            if msgid not in msgids:
                missing.append((template.name, msgid))
    assert not missing, missing[:10]


def test_the_danish_reads_as_danish_one_quotation_style_and_the_words_of_the_word_list():
    """Danish quotation marks are »…«; a gap between two figures is a "forskel" (DESIGN.md 6)."""
    entries = [e for e in polib.pofile(str(CATALOGUE)) if e.translated()]
    texts = [e.msgstr for e in entries] + [s for e in entries for s in e.msgstr_plural.values()]
    assert not [t for t in texts if "“" in t or "”" in t or "„" in t], "Danish uses »…«"
    assert not [t for t in texts if re.search(r"\bgab(et|s)?\b", t)], "a difference between figures is a forskel"
    assert not [t for t in texts if "omkring" in t and "%(" in t], "a count that is exact is not 'omkring'"


def test_processes_starting_together_on_a_new_data_folder_share_one_whole_secret_key(tmp_path):
    """The web server and the worker start at once on a fresh install: neither may read a half-written
    key or keep one of its own (sessions and rate-limit counts signed with one would fail in the other).

    The window this guards is narrow (the key used to be created empty, then written), so the test
    states the contract rather than reliably catching the old race."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "SECRET_KEY_FILE"}}
    env.update(GENSIDIG_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="gensidig.settings")
    program = "import gensidig.settings as settings; print(settings.SECRET_KEY)"
    for attempt in range(2):
        (tmp_path / "secret_key").unlink(missing_ok=True)
        processes = [
            subprocess.Popen([sys.executable, "-c", program], env=env, stdout=subprocess.PIPE, text=True)  # noqa: S603
            for _ in range(8)
        ]
        keys = {process.communicate(timeout=120)[0].strip() for process in processes}
        assert all(process.returncode == 0 for process in processes)
        assert keys == {(tmp_path / "secret_key").read_text().strip()}, attempt
        assert len(keys.pop()) >= 50
        assert [path.name for path in tmp_path.iterdir() if path.name.startswith("secret_key")] == ["secret_key"]
