# CRO Portal — `make run` starts the portal with demo data; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Links in e-mails and calendar feeds point where runserver serves (settings' default agrees).
PORTAL_BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: setup run test lint format ctcae-check clean bench

## setup: virtualenv in .venv, Python and npm packages, CTCAE table check (quick when nothing changed)
setup: $(VENV)/.installed node_modules/.installed ctcae-check

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is needed" if sys.version_info < (3, 11) else 0)'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

ctcae-check:
	@test -s safety/data/ctcae_v5_facts.csv || { echo "safety/data/ctcae_v5_facts.csv is missing: the CTCAE v5 dictionary cannot be loaded"; exit 1; }

## run: migrate, load demo data, start web + Celery workers (every queue) + beat
# Two workers, as the queues split (DESIGN §2): a long import never delays the minute sweep.
run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --scale small
	@echo; echo "CRO Portal: http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/docs/)"; echo
	@trap 'kill 0' EXIT INT TERM; \
	export PORTAL_BASE_URL='$(PORTAL_BASE_URL)'; \
	$(PY) -m celery -A croportal worker -l warning -c 1 -Q celery,reminders -n main@%h & \
	$(PY) -m celery -A croportal worker -l warning -c 1 -Q imports,exports -n bulk@%h & \
	$(PY) -m celery -A croportal beat -l warning -S django & \
	$(PY) manage.py runserver $(HOST):$(PORT)

## test: the whole suite (SQLite by default; PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set),
## in parallel: a pytest-xdist worker per core. One file without workers:
##   make test PYTEST_XDIST= PYTEST_ARGS=tests/sites/test_pages.py   (or PYTEST_ARGS="-n0 ...")
PYTEST_XDIST ?= -n auto --dist loadgroup
test: setup
	$(PY) -m pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

## lint: ruff, mypy on services/selectors, migrations up to date
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	env -u DATABASE_URL -u DATABASE_OWNER_URL $(PY) manage.py makemigrations --check --dry-run

## bench: pages and lists at a CRO's scale (not part of test; bench/README.md). DATABASE_URL names
## the PostgreSQL database to use (seeded with `seed_demo --scale cro` first when it is empty).
bench: setup
	$(PY) bench/pages_bench.py

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) node_modules var db.sqlite3
