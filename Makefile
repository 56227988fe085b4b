# zhifa 执法 — two commands: `make run` (install, migrate, load the demo, serve) and `make test`.
#
# Installs are guarded by stamp files inside the virtualenv, so a second run with unchanged lock
# files installs nothing. VENV may point elsewhere (the setup test reuses an existing one).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
ZHIFA := $(BIN)/zhifa
VENDOR := src/zhifa/web/static/vendor/htmx.min.js
LINT_PATHS := src tests bench migrations

.PHONY: help run setup install install-test system system-test test lint format bench \
	clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

run: setup ## Install, migrate, load the demo district and serve http://127.0.0.1:8000
	@echo "serving on http://$(HOST):$(PORT)  (Ctrl-C to stop)"
	$(ZHIFA) serve --host $(HOST) --port $(PORT)

setup: install ## Everything `run` does except serving
	mkdir -p var
	$(ZHIFA) db upgrade
	$(ZHIFA) ledger keygen --if-missing
	$(ZHIFA) ledger attest-rows
	$(ZHIFA) demo load

install: system $(VENV)/.stamp-main $(VENV)/.stamp-editable $(VENDOR) ## Install what the product needs

install-test: system-test install $(VENV)/.stamp-test ## Install what the tests need

system:
	@scripts/install.sh system

system-test:
	@scripts/install.sh test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.stamp-main: requirements/main.lock | $(BIN)/python
	$(PIP) install -q -r requirements/main.lock
	touch $@

$(VENV)/.stamp-test: requirements/test.lock $(VENV)/.stamp-main
	$(PIP) install -q -r requirements/test.lock
	touch $@

$(VENV)/.stamp-editable: pyproject.toml $(VENV)/.stamp-main
	$(PIP) install -q --no-deps -e .
	touch $@

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --prefer-offline
	touch $@

$(VENDOR): node_modules/.stamp scripts/vendor-assets.sh
	scripts/vendor-assets.sh

test: install-test ## Install what the tests need and run them (PYTEST_ARGS="-k x" to select)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install-test ## ruff format --check, ruff check, mypy --strict on src/
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/mypy

format: install-test ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

bench: install-test ## Run bench/*.py; each prints a table against a same-run baseline
	$(BIN)/python bench/run.py

clean: ## Remove .venv, node_modules, vendored assets and caches (keeps ./var, your data)
	rm -rf $(VENV) node_modules src/zhifa/web/static/vendor .pytest_cache .mypy_cache .ruff_cache \
		.hypothesis bench/out
	find src tests bench migrations -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -rf src/*.egg-info
