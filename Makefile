# Gensidig -- the two commands in the README are `make demo` and `make test`.
# PYTHON=/path/to/python3.13 picks the interpreter (3.12 or newer); PORT=8000 the demo's port.

VENV := .venv
PORT ?= 8000
PY := $(VENV)/bin/python

.PHONY: install install-test demo serve test bench lint format messages vendor clean

# A virtual environment with Python >= 3.12; remade if an older interpreter made it.
$(VENV)/pyvenv.cfg:
	@py="$$(scripts/find-python.sh)" && echo "Using $$py" && "$$py" -m venv --clear $(VENV)

$(VENV)/.installed-app: $(VENV)/pyvenv.cfg pyproject.toml
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' || \
	  { echo "$(VENV) was made with an older Python; remaking it."; rm -rf $(VENV); $(MAKE) $(VENV)/pyvenv.cfg; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed-app
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

install: $(VENV)/.installed-app
install-test: $(VENV)/.installed-test

## The demo on SQLite at http://127.0.0.1:$(PORT), with its own sender: e-mails go to the page
## /demo/outbox/, never out (Ctrl+C stops both; run it again for fresh links).
demo: install
	SITE_URL=http://127.0.0.1:$(PORT) $(VENV)/bin/gensidig demo --port $(PORT)

## Every test: lint, then the suite on SQLite and again on PostgreSQL, browser tests included.
test: install-test
	scripts/run-tests.sh

## Submission throughput against a one-row-insert baseline, on SQLite and PostgreSQL;
## then the downloads of a closed round (PDF, XLSX, CSV), and its report page against the one-row insert;
## then HR's and chiefs' pages at 500 and at 20,000 people;
## then the bytes a browser moves for the answer form (first and repeat visit) and the report.
## then launching a campaign of 5,000 people and sending its invitations, against issue 12's targets.
bench: install-test
	$(PY) benchmarks/submit_throughput.py
	$(PY) benchmarks/exports.py
	$(PY) benchmarks/report_latency.py
	$(PY) benchmarks/page_scale.py
	$(PY) benchmarks/page_weight.py
	$(PY) benchmarks/org_scale.py --only-send --databases sqlite
	$(PY) benchmarks/org_scale.py --databases postgres --people 5000,20000

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-test
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Refresh the Danish catalogue from the source (needs GNU gettext), then compile it.
messages: install-test
	cd gensidig && ../$(VENV)/bin/gensidig makemessages -l da --no-obsolete --add-location file
	cd gensidig && ../$(VENV)/bin/gensidig compilemessages -l da

vendor:
	scripts/vendor-frontend.sh

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
