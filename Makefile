# Warm Yang CRM: one entry point for developers and CI. See docs and SPEC section 9.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
# pip may put uv where PATH does not look (a pyenv version dir, ~/.local/bin); `python3 -m uv`
# works wherever pip put it.
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PYTEST := $(BIN)/pytest
# make run's admin API token unless the environment (or .env) sets one: local development only.
DEV_ADMIN_TOKEN := $(or $(CRM_BOOTSTRAP_ADMIN_TOKEN),warmyang-local-dev-admin-token)

.PHONY: help install uv run demo test test-unit test-integration test-e2e test-faults lint bench clean-data settings-doc

help:
	@echo "make install           venv (uv sync --locked) and Kafka jars"
	@echo "make run               the whole local stack; Ctrl-C stops it"
	@echo "make demo              demo firms into a running stack (TOKEN=, URL=; deploy/demo)"
	@echo "make test              every test (unit, integration, e2e)"
	@echo "make test-unit | test-integration | test-e2e"
	@echo "make test-faults       kill/restart services, Kafka, MongoDB mid-burst (~20 min)"
	@echo "make lint              ruff check and ruff format --check"
	@echo "make bench             benchmarks"
	@echo "make clean-data        delete .data/ (Kafka, MongoDB and mail of make run)"
	@echo "make settings-doc      regenerate the README's settings table"

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
	  || python3 -m pip install --quiet "uv==$(UV_VERSION)" \
	  || python3 -m pip install --quiet --break-system-packages "uv==$(UV_VERSION)"

install: uv
	$(UV) sync --locked --all-packages
	$(BIN)/crm-devstack fetch-kafka

run: install
	@echo ""
	@echo "  intake         http://127.0.0.1:8000   (/healthz /readyz /metrics)"
	@echo "  followup       http://127.0.0.1:8001"
	@echo "  notification   http://127.0.0.1:8002"
	@echo "  webhooks       http://127.0.0.1:8003   (webhook relay)"
	@echo "  mail inbox     http://127.0.0.1:8025   (SMTP sink on 127.0.0.1:1025)"
	@echo "  Kafka          127.0.0.1:9092"
	@echo "  MongoDB        mongodb://127.0.0.1:27017/?retryWrites=false"
	@echo "  admin API token (local only): $(DEV_ADMIN_TOKEN)   demo data: make demo"
	@echo "  data in .data/ (make clean-data to reset); Ctrl-C stops everything"
	@echo ""
	@# honcho via crm-devstack up: the same `honcho start`, but processes get 30 s (not 5)
	@# to stop. The Procfile's commands (crm-devstack, crm-topics, services) come from the venv.
	PATH="$(CURDIR)/$(BIN):$$PATH" CRM_BOOTSTRAP_ADMIN_TOKEN="$(DEV_ADMIN_TOKEN)" \
	  $(BIN)/crm-devstack up -f Procfile

# Demo firms into a running `make run` stack through intake's HTTP API; safe to re-run.
# TOKEN defaults to the environment's CRM_BOOTSTRAP_ADMIN_TOKEN, URL to intake on 127.0.0.1:8000.
demo: install
	PYTHONPATH=deploy/demo $(BIN)/python -m crm_demo.staff
	PYTHONPATH=deploy/demo $(BIN)/python -m crm_demo $(if $(URL),--url "$(URL)") --token "$(or $(TOKEN),$(DEV_ADMIN_TOKEN))"

# One pytest session per suite (tests/run-suites); every suite holds tests, so none can end
# with "no tests ran" (exit 5), and any failing suite fails the target.
test: install
	PYTEST=$(PYTEST) tests/run-suites

test-unit: install
	$(PYTEST) tests/unit

test-integration: install
	$(PYTEST) tests/integration

test-e2e: install
	$(PYTEST) tests/e2e --ignore=tests/e2e/faults

# Fault tests: kill services, restart Kafka and MongoDB, rebalance, mid-burst (~19 min).
test-faults: install
	$(PYTEST) tests/e2e/faults -s

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install
	$(BIN)/python -m bench

clean-data:
	rm -rf .data

# Regenerates the README's settings table from the settings classes (a test checks it).
settings-doc: install
	$(BIN)/python tests/settings_table.py --write
