"""Django settings for Gensidig.

Every setting an operator may change is read from an environment variable through the small
typed helpers below, which fail loudly on a value they cannot parse. docs/configuration.md
lists them all.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"The environment variable {name} must be set.")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use true or false.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


def env_share(name: str, default: float) -> float:
    """A share between 0 and 1, e.g. 0.10 for a tenth."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number; write a share such as 0.10.") from None
    if not 0 <= value <= 1:
        raise ImproperlyConfigured(f"{name} must be between 0 and 1, not {value}.")
    return value


def _timedelta_minutes(minutes: int):
    import datetime

    return datetime.timedelta(minutes=minutes)


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


DATA_DIR = Path(env_str("GENSIDIG_DATA_DIR", str(Path.cwd() / "data"))).resolve()
# The data folder holds the database, the secret key and the ballot key: its owner's alone.
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
if DATA_DIR.stat().st_mode & 0o777 != 0o700 and DATA_DIR.stat().st_uid == os.getuid():
    DATA_DIR.chmod(0o700)
DEBUG = env_bool("DEBUG", False)


def secret_from_file(name: str) -> str:
    """The secret in the file the variable names (a container's /run/secrets/...), or "" when unset."""
    path = os.environ.get(name)
    if not path:
        return ""
    try:
        value = Path(path).read_text().strip()
    except OSError as error:
        raise ImproperlyConfigured(f"{name}={path!r} cannot be read: {error.strerror}.") from None
    if not value:
        raise ImproperlyConfigured(f"{name}={path!r} is empty.")
    return value


def _secret_key() -> str:
    """Use SECRET_KEY from the environment, or one kept in the data folder.

    A self-hosted install should work out of the box, so a key is generated once and stored
    (readable only by its owner) when none is given.
    """
    if key := os.environ.get("SECRET_KEY"):
        return key
    if key := secret_from_file("SECRET_KEY_FILE"):
        return key
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    # Written whole to a file of its own, then linked into place: a process starting at the same
    # moment (the web server and the worker) never reads a half-written key, and if two make one,
    # the first link wins and both use that key.
    key = secrets.token_urlsafe(50)
    draft = DATA_DIR / f"secret_key.{os.getpid()}.{secrets.token_hex(4)}"
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    try:
        os.link(draft, key_file)
    except FileExistsError:
        key = key_file.read_text().strip()
    finally:
        draft.unlink()
    return key


SECRET_KEY = _secret_key()

SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    # Django Tasks' database backend: a task is a row, enqueued with the data it acts on.
    "django_tasks_db",
    "gensidig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "gensidig.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # HTML compressed only where no BREACH side channel opens (gensidig/compression.py).
    "gensidig.compression.HtmlCompressionMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "gensidig.middleware.NoReferrerCsrfMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gensidig.middleware.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gensidig.urls"
WSGI_APPLICATION = "gensidig.wsgi.application"
AUTH_USER_MODEL = "gensidig.User"
LOGIN_URL = "gensidig:login"
LOGIN_REDIRECT_URL = "gensidig:home"
LOGOUT_REDIRECT_URL = "gensidig:home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "gensidig.context_processors.site",
                "gensidig.context_processors.roles",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
# SQLite is the embedded default; PostgreSQL via DATABASE_URL is the production database.
DEFAULT_DATABASE_URL = f"sqlite:///{DATA_DIR / 'gensidig.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", DEFAULT_DATABASE_URL),
        # Persistent connections doubled SQLite and quadrupled PostgreSQL throughput here.
        conn_max_age=env_int("CONN_MAX_AGE", 600, minimum=0),
        conn_health_checks=True,
    )
}
# The database password from a file (a container secret), so it need not be in DATABASE_URL.
if database_password := secret_from_file("DATABASE_PASSWORD_FILE"):
    DATABASES["default"]["PASSWORD"] = database_password
SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
# Every statement of a web request is bounded, so a locked table or a slow database gives the
# visitor a 503 page in seconds instead of a worker that hangs until gunicorn kills it. Commands
# and the worker (`gensidig close-round`, `migrate`, ...) do batch work and have their own, by
# default no limit; gensidig.cli marks them. 0 means no limit.
GENSIDIG_DB_STATEMENT_TIMEOUT = env_int(
    "GENSIDIG_DB_JOB_STATEMENT_TIMEOUT"
    if os.environ.get("GENSIDIG_PROCESS") == "job"
    else "GENSIDIG_DB_STATEMENT_TIMEOUT",
    0 if os.environ.get("GENSIDIG_PROCESS") == "job" else 15,
    minimum=0,
)
GENSIDIG_DB_CONNECT_TIMEOUT = env_int("GENSIDIG_DB_CONNECT_TIMEOUT", 5, minimum=1)
# What a 503 page asks the browser (and a load balancer) to wait before trying again, in seconds.
GENSIDIG_RETRY_AFTER = env_int("GENSIDIG_RETRY_AFTER", 30, minimum=1)
if not SQLITE:
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", GENSIDIG_DB_CONNECT_TIMEOUT)
    # psycopg prepares a statement only when asked (prepare=True): the few every submission runs
    # (services/survey/answering.py). Django's default (None) would refuse even those; psycopg's
    # own (5) would prepare any statement run five times on a connection.
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 2**31 - 1)
    if GENSIDIG_DB_STATEMENT_TIMEOUT:
        # statement_timeout counts the time spent waiting for locks too.
        DATABASES["default"]["OPTIONS"]["options"] = (
            DATABASES["default"]["OPTIONS"].get("options", "")
            + f" -c statement_timeout={GENSIDIG_DB_STATEMENT_TIMEOUT * 1000}"
        ).strip()
if SQLITE:
    # Django's backend, with the database file and its WAL made readable by their owner only.
    DATABASES["default"]["ENGINE"] = "gensidig.db.sqlite3"
    DATABASES["default"]["OPTIONS"] = {
        # A write transaction takes the lock when it starts, so two submissions never
        # deadlock upgrading read locks; WAL lets readers go on while one writes.
        "transaction_mode": "IMMEDIATE",
        # SQLite has no statement timeout; what bounds a request is how long it waits for the
        # write lock (a statement that runs holds it briefly).
        "timeout": GENSIDIG_DB_STATEMENT_TIMEOUT or 60,
        # secure_delete: deleted rows (counted ballots) are overwritten, not left in free pages.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;"
        ),
    }
    # Tests use a file, not shared memory: concurrent-submission tests need real locking.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Passwords and sessions ------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
SESSION_ENGINE = "gensidig.sessions"
SESSION_COOKIE_AGE = 60 * 60 * 8
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = env_bool("SECURE_COOKIES", SITE_URL.startswith("https://"))
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_SECURE = SECURE_COOKIES
CSRF_FAILURE_VIEW = "gensidig.views.errors.csrf_failure"

# --- Request limits ---------------------------------------------------------------------
# A form without a file (the biggest is the answer form with its comments) stays far below 1 MB;
# an org chart upload is the only file anyone sends. Bigger bodies get 413 before they are read.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("GENSIDIG_MAX_FORM_BYTES", 1024 * 1024, minimum=64 * 1024)
GENSIDIG_MAX_UPLOAD_BYTES = env_int("GENSIDIG_MAX_UPLOAD_BYTES", 5 * 1024 * 1024, minimum=64 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = GENSIDIG_MAX_UPLOAD_BYTES  # an upload within the limit is kept in memory, never on disk
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
DATA_UPLOAD_MAX_NUMBER_FILES = 1
# The most rows an org chart file may have (a region has some tens of thousands of staff, of
# whom a few thousand lead); bigger files get a message at once instead of being parsed.
GENSIDIG_MAX_CHART_ROWS = env_int("GENSIDIG_MAX_CHART_ROWS", 50_000, minimum=100)

# --- Sign-in limits ---------------------------------------------------------------------
# Wrong passwords are counted in the database (django-axes), so every app server shares the
# count: per account and, separately, per client address. At the limit, that account (or that
# address) is locked out for the cool-off period; a right password is refused too until then.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's, reading the signed-in user with a query compiled once (gensidig/auth_backends.py).
    "gensidig.auth_backends.ModelBackend",
]
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]
AXES_FAILURE_LIMIT = env_int("GENSIDIG_SIGN_IN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = _timedelta_minutes(env_int("GENSIDIG_SIGN_IN_COOLOFF_MINUTES", 15, minimum=1))
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "gensidig.services.sign_in_limits.username_for_limits"
AXES_LOCKOUT_CALLABLE = "gensidig.services.sign_in_limits.lockout_response"
# Who signed in when is the audit trail's (and axes' attempts expire with the cool-off).
AXES_DISABLE_ACCESS_LOG = True
AXES_USE_ATTEMPT_EXPIRATION = True
AXES_SENSITIVE_PARAMETERS = ["password"]
# django-axes would log every sign-in with its address; the audit trail records them, the log does not.
AXES_VERBOSE = False
# People who left the organisation (inactive in the chart) are erased this many days after.
GENSIDIG_ERASE_LEAVERS_AFTER_DAYS = env_int("GENSIDIG_ERASE_LEAVERS_AFTER_DAYS", 365, minimum=1)
# How long the audit trail of what staff do is kept (never less than 30 days).
GENSIDIG_AUDIT_RETENTION_DAYS = env_int("GENSIDIG_AUDIT_RETENTION_DAYS", 400, minimum=30)
# Sign-in links: at most this many requests per e-mail address and per client address an hour.
GENSIDIG_SIGN_IN_LINK_REQUESTS_PER_ADDRESS = env_int("GENSIDIG_SIGN_IN_LINK_REQUESTS_PER_ADDRESS", 5, minimum=1)
GENSIDIG_SIGN_IN_LINK_REQUESTS_PER_CLIENT = env_int("GENSIDIG_SIGN_IN_LINK_REQUESTS_PER_CLIENT", 30, minimum=1)
# Django's deployment check looks for its CSRF middleware by name and misses our subclass of it
# (gensidig.middleware.NoReferrerCsrfMiddleware); gensidig.checks checks for the subclass instead.
SILENCED_SYSTEM_CHECKS = ["security.W003"]

# --- Security headers -----------------------------------------------------------------
# Answer links carry a token until the first redirect; no page ever sends a referrer.
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Served over https (SITE_URL says so): plain http is redirected and browsers are told, for a
# year, never to use it for this host or its subdomains. Preloading is the domain owner's choice.
HTTPS = SITE_URL.startswith("https://")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
# A load balancer's health probe may come over plain http from inside.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 60 * 60 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Behind proxies every request comes from the nearest proxy's address; the client is the address
# those proxies added to X-Forwarded-For (the sign-in limits count per client address).
GENSIDIG_PROXY_COUNT = env_int("GENSIDIG_PROXY_COUNT", 1 if env_bool("BEHIND_TLS_PROXY", False) else 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "gensidig.services.sign_in_limits.client_address"
# Nothing is loaded from a third party: scripts, styles, fonts and images are our own files.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

# --- Scheduled work -------------------------------------------------------------------
# Mail, scheduled openings, reminders, due closes and the daily clean-ups run as Django Tasks on
# `gensidig worker` (services.jobs); the queue is a table in the database, so no other service.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# The local hour at which the daily jobs (retention, erasure of leavers, purges) run.
GENSIDIG_DAILY_JOBS_HOUR = env_int("GENSIDIG_DAILY_JOBS_HOUR", 3, minimum=0)
if GENSIDIG_DAILY_JOBS_HOUR > 23:
    raise ImproperlyConfigured(
        f"GENSIDIG_DAILY_JOBS_HOUR must be an hour from 0 to 23, not {GENSIDIG_DAILY_JOBS_HOUR}."
    )
# How long an open campaign's participation, as last counted and audited, is shown before it is
# counted again (services/results/participation.py); 0 counts on every view.
GENSIDIG_LIVE_PARTICIPATION_SECONDS = env_int("GENSIDIG_LIVE_PARTICIPATION_SECONDS", 60, minimum=0)

# --- Languages ------------------------------------------------------------------------
LANGUAGE_CODE = "da"
LANGUAGES = [("da", _("Danish")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "Europe/Copenhagen")
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Serve straight from the package when collectstatic has not run (tests, development).
WHITENOISE_USE_FINDERS = DEBUG

# --- E-mail ---------------------------------------------------------------------------
MAILERS = {
    "default": {
        "BACKEND": env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"),
        "OPTIONS": {
            "host": env_str("EMAIL_HOST", "localhost"),
            "port": env_int("EMAIL_PORT", 25, minimum=1),
            "username": env_str("EMAIL_HOST_USER", ""),
            "password": env_str("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS", False),
            "use_ssl": env_bool("EMAIL_USE_SSL", False),
            "timeout": env_int("EMAIL_TIMEOUT", 30, minimum=1),
        },
    }
}
if not MAILERS["default"]["BACKEND"].endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Gensidig <gensidig@localhost>")
# Senders that send the invitations at once, each with its own database and mail server
# connection (services.mail.outbox). They mostly wait on the mail server, so several help even on
# two cores; a server that allows one client fewer connections needs this lowered.
GENSIDIG_MAIL_SENDERS = env_int("GENSIDIG_MAIL_SENDERS", 8, minimum=1)

# --- Gensidig -------------------------------------------------------------------------
# The anonymity threshold k: 5 by default, an organisation may lower it to 4 or 3, never below.
GENSIDIG_DEFAULT_THRESHOLD = 5
GENSIDIG_MINIMUM_THRESHOLD = 3
# Ballots are sealed to per-round keys whose private halves are wrapped by this master key,
# which never enters the database (DESIGN.md 2.1, docs/deployment.md). URL-safe base64 of 32
# bytes, from `gensidig ballot-key generate`; or a key file. On SQLite (one machine, one data
# folder) a key file is made on first start; with PostgreSQL every app server and worker must be
# given the same key, so none is made.
GENSIDIG_BALLOT_KEY = env_str("GENSIDIG_BALLOT_KEY", "")
GENSIDIG_BALLOT_KEY_FILE = Path(env_str("GENSIDIG_BALLOT_KEY_FILE", str(DATA_DIR / "ballot.key")))
GENSIDIG_BALLOT_KEY_CREATE = env_bool("GENSIDIG_BALLOT_KEY_CREATE", SQLITE)
# A chart import that would make more than this share of the organisation's active people leave
# (a partial chart, the wrong file) is applied from the web only when HR confirms the number.
GENSIDIG_IMPORT_CONFIRM_LEAVING_SHARE = env_share("GENSIDIG_IMPORT_CONFIRM_LEAVING_SHARE", 0.10)
# Extra views used only by benchmarks/ (a one-row insert baseline); never on in production.
GENSIDIG_BENCHMARK_VIEWS = env_bool("GENSIDIG_BENCHMARK_VIEWS", False)
# The demo's outbox, switched on by `gensidig demo` when it serves: e-mails are kept in the data
# folder and shown at /demo/outbox/ instead of being sent. Never in production: anyone could read
# every sign-in link there.
GENSIDIG_DEMO_OUTBOX = env_bool("GENSIDIG_DEMO_OUTBOX", False)
if GENSIDIG_DEMO_OUTBOX:
    MAILERS["default"] = {"BACKEND": "gensidig.services.mail.demo_outbox.DemoOutboxBackend", "OPTIONS": {}}

# --- Logging --------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_tokens": {"()": "gensidig.log_filters.RedactAnswerTokens"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_tokens"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # Django's own console handler (on in DEBUG) has no redaction: route its logger through ours.
        "django": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO"), "propagate": False},
        # WeasyPrint logs each step of each PDF at INFO; only its warnings belong in the log.
        "weasyprint.progress": {"level": "WARNING"},
        # django-axes logs each sign-in with the address at INFO; the audit trail keeps those.
        "axes": {"level": "WARNING"},
    },
}
