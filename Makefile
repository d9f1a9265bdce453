# Two commands on a fresh machine: `make demo` and `make test`. Everything else is optional.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9

export C360_DATA_DIR ?= $(CURDIR)/data
export PATH := $(CURDIR)/$(BIN):$(PATH)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

.PHONY: install demo test bench bench-lock ui lint format manifest clean help
.DEFAULT_GOAL := help

help:  ## list targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(BIN)/uv: | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: pyproject.toml uv.lock | $(BIN)/uv
	$(BIN)/uv sync --frozen --python $(BIN)/python
	@touch $@

install: $(VENV)/.synced  ## create .venv from uv.lock (idempotent)

manifest: install  ## parse the dbt project (target/manifest.json) if any dbt file changed
	$(BIN)/python -c "from orchestration.config import Settings; from orchestration.transform.project import ensure_manifest; print(ensure_manifest(Settings.from_env()))"

demo: install  ## generate the embedded dataset, run the whole pipeline once, print a summary
	$(BIN)/c360 demo

test: install  ## run the test suite
	$(BIN)/pytest

# The benchmark's own environment: pandas + lifetimes for the CLV baseline, never in the runtime's uv.lock.
BENCH_VENV := .venv-bench
SCALE ?= S M
# extra options, e.g. BENCH_ARGS="--repeats 5" or "--reuse-runs" (`.venv/bin/python -m benchmarks.run --help`)
BENCH_ARGS ?=

$(BENCH_VENV)/.synced: benchmarks/requirements.lock | $(BIN)/uv
	test -x $(BENCH_VENV)/bin/python || $(BIN)/uv venv --quiet --python $(BIN)/python $(BENCH_VENV)
	$(BIN)/uv pip sync --quiet --python $(BENCH_VENV)/bin/python benchmarks/requirements.lock
	@touch $@

bench: install $(BENCH_VENV)/.synced  ## time full + one-day increment runs (SCALE="S M"; XS, L) vs SQL bound and lifetimes
	$(BIN)/python -m benchmarks.run --scales $(SCALE) $(BENCH_ARGS)

bench-lock: | $(BIN)/uv  ## re-lock the benchmark environment after editing benchmarks/requirements.txt
	$(BIN)/uv pip compile --quiet --python-version 3.11 benchmarks/requirements.txt -o benchmarks/requirements.lock

ui: manifest  ## Dagster UI with the daily schedule on http://127.0.0.1:3000
	DAGSTER_HOME=$(C360_DATA_DIR)/dagster_home; mkdir -p $$DAGSTER_HOME; \
	test -f $$DAGSTER_HOME/dagster.yaml || printf 'telemetry:\n  enabled: false\n' > $$DAGSTER_HOME/dagster.yaml; \
	DAGSTER_HOME=$$DAGSTER_HOME $(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

lint: install  ## ruff lint + format check
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

clean:  ## remove runtime data and dbt artefacts (keeps .venv)
	rm -rf data dbt_project/target dbt_project/logs
