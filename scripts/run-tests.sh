#!/bin/sh
# Run every test: lint, the suite on SQLite, and the suite again on PostgreSQL.
# In CI (CI=true) a missing browser or database fails the run instead of skipping.
set -eu
cd "$(dirname "$0")/.."
VENV=.venv
PG_URL="${TEST_POSTGRES_URL:-postgres://127.0.0.1:5432/gensidig}"
CI="${CI:-false}"

echo "== lint"
$VENV/bin/ruff check .
$VENV/bin/ruff format --check .

if [ -z "${GENSIDIG_CHROMIUM:-}" ]; then
  GENSIDIG_CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
fi
export GENSIDIG_CHROMIUM
if [ -z "$GENSIDIG_CHROMIUM" ]; then
  if [ "$CI" = "true" ]; then echo "Chromium is missing: browser tests cannot run in CI." >&2; exit 1; fi
  echo "!! Chromium not found: the browser tests will be skipped (apt-get install chromium)." >&2
fi

# Each pass gets its own data folder, so nothing from a demo or an earlier run leaks in.
data_dir="$(mktemp -d)"
trap 'rm -rf "$data_dir"' EXIT
export GENSIDIG_DATA_DIR="$data_dir" DJANGO_ALLOW_ASYNC_UNSAFE=true

# With no arguments: everything but the browser tests on TEST_WORKERS processes (pytest-xdist,
# default 2, this machine's cores), then the browser tests in one process, as they drive one
# Chromium against one live server. With arguments: pytest with exactly those.
suite() {
  if [ "$#" -eq 0 ]; then
    $VENV/bin/pytest -n "${TEST_WORKERS:-2}" -m "not e2e" && $VENV/bin/pytest -m e2e
  else
    $VENV/bin/pytest "$@"
  fi
}

echo "== tests on SQLite"
(unset DATABASE_URL; suite "$@")

if $VENV/bin/python -c "import psycopg, sys; psycopg.connect(sys.argv[1].replace('postgres://', 'postgresql://', 1).rsplit('/', 1)[0] + '/postgres', connect_timeout=3).close()" "$PG_URL" 2>/dev/null; then
  echo "== tests on PostgreSQL ($PG_URL)"
  (export DATABASE_URL="$PG_URL"; suite "$@")
elif [ "$CI" = "true" ]; then
  echo "PostgreSQL is not reachable at $PG_URL: the PostgreSQL pass cannot run in CI." >&2
  exit 1
else
  echo "!! PostgreSQL not reachable at $PG_URL: skipped the PostgreSQL pass (set TEST_POSTGRES_URL)." >&2
fi
