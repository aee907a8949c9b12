"""Fixtures for the whole suite: fast passwords, plain static files, and ready-made teams and rounds."""

import pytest
from django.test import override_settings

from gensidig.services.ballots.keys import generate_master_key
from gensidig.services.survey.instruments import clear_caches
from gensidig.views.padding import forget_bounds

from .factories import make_team


@pytest.fixture(autouse=True, scope="session")
def _test_settings():
    from django.conf import settings

    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise looks for it at start-up
    # Static files are served from the package (no manifest to build), and passwords are
    # hashed cheaply; tests/test_settings.py checks the production choices themselves.
    with override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        # One master key for the whole run, given as a deployment with PostgreSQL must give it.
        GENSIDIG_BALLOT_KEY=generate_master_key().encoded(),
    ):
        yield


@pytest.fixture(autouse=True)
def _fresh_instrument_caches():
    # Each test database gets its own instruments and rounds; never carry ids over from another.
    clear_caches()
    forget_bounds()
    yield
    clear_caches()
    forget_bounds()


@pytest.fixture
def team(db):
    return make_team(leaders=8)


@pytest.fixture
def outsider(db, django_user_model):
    """Someone signed in who has nothing to do with any team in the test."""
    return django_user_model.objects.create_user(email="outsider@elsewhere.example", password="not-a-chief-pw")
