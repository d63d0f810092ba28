# Šalter — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PORT ?= 8000
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON := python3

.PHONY: run test debian-run debian-test install serve migrate seed lint typecheck checks pytest benchmark benchmark-cases benchmark-documents benchmark-mailbox benchmark-exchange crash-test openapi messages clean

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

node_modules/.synced: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.synced node_modules/.synced

# The Debian packages each command needs: installed when root with apt, else a stop naming them.
debian-run:
	bash scripts/debian-packages.sh run

debian-test:
	bash scripts/debian-packages.sh test

## make run: install, migrate, seed the demo, serve on http://127.0.0.1:$(PORT) with gunicorn,
## with the notification worker and the clock beside it (scripts/run.sh).
run: debian-run install
	$(BIN)/salter migrate --no-input
	$(BIN)/salter pki init
	$(BIN)/salter collectstatic --no-input -v0
	$(BIN)/salter seed
	PORT=$(PORT) bash scripts/run.sh

## make test: every check (lint, types, migrations, deploy check, tests on SQLite and
## PostgreSQL, browser tests). See scripts/test.sh for what runs and why.
test: debian-test install
	bash scripts/test.sh

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

messages: install
	cd src/salter && ../../$(BIN)/salter makemessages -l sr --no-obsolete --no-location -i "*.txt~"
	cd src/salter && ../../$(BIN)/salter compilemessages -l sr

## make openapi: write the REST API's description to docs/openapi.json (committed; a test fails
## when the code describes anything else — run this, then review the diff).
openapi: install
	DJANGO_SETTINGS_MODULE=salter.settings.test $(BIN)/salter export_openapi --output docs/openapi.json

benchmark: install
	bash benchmarks/run.sh

benchmark-cases: install
	bash benchmarks/cases.sh

## make benchmark-documents: render + sign + seal vs signing alone, one core (docs/benchmarks.md).
benchmark-documents: install
	DJANGO_SETTINGS_MODULE=salter.settings.test taskset -c 0 $(BIN)/python -m benchmarks.documents

## make benchmark-mailbox: the first page of a 10,000-message mailbox among 1,000,000 messages,
## in process and over HTTP, on PostgreSQL at 127.0.0.1 (docs/benchmarks.md).
benchmark-mailbox: install
	$(BIN)/python -m benchmarks.mailbox

## make benchmark-notifications: the outbox → real notify_worker processes → a local SMTP
## server, on PostgreSQL: notifications/s and commit → send delay (docs/benchmarks.md).
benchmark-notifications: install
	$(BIN)/python -m benchmarks.notifications

## make crash-test: applications submitted over HTTP by several processes while gunicorn workers
## are SIGKILLed, then while PostgreSQL restarts; counts that nothing was lost or doubled
## (tests/crash, database salter_crash on 127.0.0.1:5432; docs/benchmarks.md). It restarts the
## PostgreSQL server: every other session on it is cut.
crash-test: install
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/test $(BIN)/pytest -p no:cacheprovider -m crash tests/crash

clean:
	rm -rf $(VENV) $(TOOLS) node_modules var .pytest_cache .mypy_cache .ruff_cache

## make benchmark-exchange: the cost of logging a case read (on/off in one run) and "Who
## accessed my data" with 100,000 of 10,000,000 access records, on PostgreSQL (docs/benchmarks.md).
benchmark-exchange: install
	$(BIN)/python -m benchmarks.exchange
