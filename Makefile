# Two commands: `make run` (the demo at http://127.0.0.1:8000) and `make test` (the whole suite).
# Needs only python3 (3.11+). With DATABASE_URL and REDIS_URL set, both use PostgreSQL and Redis.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
# Reinstall only when pyproject.toml changes (it is newer than the stamp).
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# gunicorn: on 2 cores, 2 worker processes of 4 threads each (page work waits on the database about
# half the time). SQLite takes one writer at a time, so without DATABASE_URL one worker serves.
WEB_WORKERS ?= 2
WEB_THREADS ?= 4
DEMO_ACCOUNTS ?= 2000
DEMO_PRACTICES ?= 3
BROKER_FOLDER := .celery-broker
# pip on some machines warns about every index folder it cannot read; the warnings are noise here.
PIP_NOISE := is ignored: it is neither a file nor a directory
# Django's deployment checklist on the production settings, with a throwaway key unless one is set.
CHECK_DEPLOY := DJANGO_SETTINGS_MODULE=config.settings.production \
	SECRET_KEY="$${SECRET_KEY:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(64))')}" \
	ALLOWED_HOSTS="$${ALLOWED_HOSTS:-example.org}" $(MANAGE) check --deploy --fail-level WARNING

.PHONY: help install run serve migrate seed logins test lint format check-deploy check-ledger bench clean

help:
	@echo "make run           install, migrate, seed demo data (when empty), serve http://$(HOST):$(PORT)"
	@echo "                   (HOST=0.0.0.0 PORT=8080 make run to change where; DEBUG=true for Django's debug pages)"
	@echo "make test          lint, then the whole test suite (PostgreSQL when DATABASE_URL is set, else SQLite)"
	@echo "make lint          ruff check and the layers contract (lint-imports); make format: ruff format"
	@echo "make check-ledger  stored balances equal the ledger for every account"
	@echo "make bench         benchmarks against their floors (bench/run.py)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "==> installing Python packages into $(VENV)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]" 2>&1 | { grep -v "$(PIP_NOISE)" || true; }
	@touch $@

install: $(STAMP)

migrate: install
	$(MANAGE) migrate --noinput

# Then a claims file and its remittance (two claims for the review list), and tonight's jobs
# (aging snapshot, promises, plans, holds, queues), so the reps' queues are filled from the
# start; a second `make run` finds them done for today and changes nothing.
seed: migrate
	@mkdir -p $(BROKER_FOLDER)/out $(BROKER_FOLDER)/processed $(BROKER_FOLDER)/control
	$(MANAGE) seed_demo --accounts $(DEMO_ACCOUNTS) --practices $(DEMO_PRACTICES) --if-empty
	$(MANAGE) seed_demo_remittance
	$(MANAGE) run_nightly
	$(MANAGE) seed_demo_letters

logins: install
	@password="$$($(MANAGE) shell --verbosity 0 -c 'from django.conf import settings; print(settings.DEMO_PASSWORD)')"; \
	echo; \
	echo "Demo logins (password: $$password)"; \
	echo "  low       front desk: demographics, appointments, past-due flag"; \
	echo "  medium    billing rep: balances, ledger, queue"; \
	echo "  manager   billing manager: approvals, reports"; \
	echo "  director  director: everything, audit trail, /admin/"; \
	echo "  admin     director tier, for staff administration at /admin/"; \
	echo "  outsider  billing rep of another practice only"; \
	echo

run: seed
	$(MANAGE) collectstatic --noinput --verbosity 0
	@$(MAKE) --no-print-directory logins
	@$(MAKE) --no-print-directory serve

# The Celery worker and beat run beside the web server and stop with it. Without REDIS_URL the
# broker is a folder on disk (CELERY_* in config/settings/base.py) and beat runs inside the worker.
serve: install
	@mkdir -p $(BROKER_FOLDER)/out $(BROKER_FOLDER)/processed $(BROKER_FOLDER)/control
	@trap 'kill $$(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true' EXIT INT TERM; \
	if [ -n "$${REDIS_URL:-}" ]; then \
		echo "==> Celery worker and beat on Redis (REDIS_URL)"; \
		$(BIN)/celery -A config worker --loglevel=info --concurrency 2 & \
		$(BIN)/celery -A config beat --loglevel=info --schedule $(BROKER_FOLDER)/beat-schedule & \
	else \
		echo "==> Celery worker with beat on the filesystem broker ($(BROKER_FOLDER)/)"; \
		$(BIN)/celery -A config worker -B --loglevel=info --concurrency 2 \
			--schedule $(BROKER_FOLDER)/beat-schedule --without-gossip --without-mingle & \
	fi; \
	echo "==> serving http://$(HOST):$(PORT)/  (Ctrl-C stops the server and the worker)"; \
	DEBUG="$${DEBUG:-false}" $(BIN)/gunicorn config.wsgi --bind $(HOST):$(PORT) \
		--workers "$$( [ -n "$${DATABASE_URL:-}" ] && echo $(WEB_WORKERS) || echo 1 )" --threads $(WEB_THREADS) \
		--timeout 60 --access-logfile - --access-logformat '%(t)s "%(m)s %(U)s" %(s)s %(M)sms'

# Lint runs first (under a second) but does not hide the suite's results: a lint failure still
# fails `make test`, after the tests have run.
test: install
	@lint=0; $(BIN)/ruff check . || lint=$$?; \
	$(BIN)/lint-imports --no-cache || lint=$$?; \
	$(CHECK_DEPLOY); \
	$(MANAGE) makemigrations --check --dry-run --verbosity 1; \
	if [ -n "$${DATABASE_URL:-}" ]; then echo "==> tests on PostgreSQL"; else echo "==> tests on SQLite"; fi; \
	$(BIN)/pytest; \
	if [ "$$lint" -ne 0 ]; then echo "==> the tests passed, but ruff check or lint-imports failed (see above)"; exit "$$lint"; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-deploy: install
	$(CHECK_DEPLOY)

check-ledger: install
	$(MANAGE) check_ledger

bench: install
	$(BIN)/python bench/run.py
	$(BIN)/python bench/nightly.py
	$(BIN)/python bench/queue_next.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .hypothesis $(BROKER_FOLDER) test-db.sqlite3*
