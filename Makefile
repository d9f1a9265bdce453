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

.PHONY: install demo test test-fast bench bench-lock ui docs lint format manifest clean help dashboard dashboard-env dashboard-lock chromium
.DEFAULT_GOAL := help

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(BIN)/uv: | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# --compile-bytecode: this machine kind sets PYTHONDONTWRITEBYTECODE=1, so without .pyc files written at install every
# process (c360, each dbt call, dagster dev) compiled dagster, dbt and GX from source again: ~5 s of CPU per
# process. The stamp's name changed with the flag so existing venvs get compiled once.
$(VENV)/.synced-bytecode: pyproject.toml uv.lock | $(BIN)/uv
	$(BIN)/uv sync --frozen --compile-bytecode --python $(BIN)/python
	@touch $@

install: $(VENV)/.synced-bytecode  ## create .venv from uv.lock (idempotent)

manifest: install  ## parse the dbt project (target/manifest.json) if any dbt file changed
	$(BIN)/python -c "from orchestration.config import Settings; from orchestration.transform.project import ensure_manifest; print(ensure_manifest(Settings.from_env()))"

demo: install  ## generate the embedded dataset, run the whole pipeline once, print a summary
	$(BIN)/c360 demo

# One pytest-xdist worker per core, and one more: the suite's tests also wait (on dbt and Dagster subprocesses,
# PostgreSQL, a browser, a daemon's tick), and with one worker per core a third of the cores' time went idle. worksteal
# moves queued tests to an idle worker, so the long pipeline tests end up spread over the workers whatever order
# pytest-randomly drew (its seed is printed and shared by every worker).
PYTEST_WORKERS ?= -n $(shell echo $$(( $$(nproc) + 1 ))) --dist worksteal

test: install dashboard-env chromium  ## run the whole test suite on every core (random order; the seed is printed)
	$(BIN)/pytest $(PYTEST_WORKERS)

test-fast: install  ## the suite without the `slow` tests (no full pipeline run)
	$(BIN)/pytest $(PYTEST_WORKERS) -m "not slow"

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

# The dashboard's own environment: Streamlit and its pins, never in the runtime's uv.lock (dashboard/requirements.txt).
DASHBOARD_VENV := .venv-dashboard

$(DASHBOARD_VENV)/.synced: dashboard/requirements.lock | $(BIN)/uv
	test -x $(DASHBOARD_VENV)/bin/python || $(BIN)/uv venv --quiet --python $(BIN)/python $(DASHBOARD_VENV)
	$(BIN)/uv pip sync --quiet --python $(DASHBOARD_VENV)/bin/python dashboard/requirements.lock
	@touch $@

dashboard-env: $(DASHBOARD_VENV)/.synced

dashboard: dashboard-env  ## serve the dashboard over the published marts on http://127.0.0.1:8501 (C360_DASHBOARD_PORT)
	$(DASHBOARD_VENV)/bin/python dashboard/serve.py

dashboard-lock: | $(BIN)/uv  ## re-lock the dashboard environment after editing dashboard/requirements.txt
	$(BIN)/uv pip compile --quiet --python-version 3.11 dashboard/requirements.txt -o dashboard/requirements.lock

# Headless Chromium for the browser test (tests/test_dashboard.py), Debian's package: installed only when missing
# (the test drives it with Playwright; `playwright install` cannot download its own browser here). Needs root.
chromium:
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] || { echo "make chromium: /usr/bin/chromium is missing and installing it needs root: run 'sudo apt-get install chromium' (the browser test uses it)" >&2; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

ui: manifest  ## Dagster UI with the daily schedule on http://127.0.0.1:3000
	$(BIN)/python -c "from orchestration.config import Settings; from orchestration.runner import prepare_instance; \
	prepare_instance(Settings.from_env()).dispose()"
	umask 077; DAGSTER_HOME=$(C360_DATA_DIR)/dagster_home $(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

# The catalog is read from the published file, read-only, and the site is written under $(C360_DATA_DIR)/docs: it never
# waits on a running pipeline's warehouse lock nor touches dbt_project/target (orchestration/transform/docs_site.py).
DOCS_PORT ?= 8580

docs: install  ## build the dbt docs site (overview, marts, metrics) of the published marts, serve it on 127.0.0.1
	$(BIN)/c360 docs --port $(DOCS_PORT)

lint: install  ## ruff lint + format check, sqlfluff on the dbt project (dbt templater, dialect duckdb)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	@# The dbt templater renders through dbt, which opens the profile's DuckDB file and writes target/: give it a
	@# scratch data dir and target path, so linting needs no warehouse, never waits on the lock of a running
	@# pipeline and leaves the manifest Dagster reads alone.
	@# dbt.date_spine (dim_date, int_fx_rates_daily) queries int_date_bounds while compiling, and sqlfluff compiles
	@# with execute on: without that table sqlfluff skips both files with only a warning. A one-row stub lets them
	@# render (its dates do not matter to the SQL linted).
	lint_dir=$$(mktemp -d) && trap 'rm -rf "$$lint_dir"' EXIT && \
	$(BIN)/python -c $$'import sys\nfrom pathlib import Path\nfrom orchestration.warehouse import connect_file\n\
	with connect_file(Path(sys.argv[1]) / "warehouse.duckdb") as con:\n    con.execute("create schema intermediate; \
	create table intermediate.int_date_bounds as select date \'2000-01-01\' as first_date, date \'2000-01-02\' as last_date")' \
	"$$lint_dir" && \
	cd dbt_project && \
	C360_DATA_DIR=$$lint_dir DBT_TARGET_PATH=$$lint_dir/target DBT_LOG_PATH=$$lint_dir/logs \
	$(CURDIR)/$(BIN)/sqlfluff lint models tests

format: install
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

clean:  ## remove runtime data and dbt artefacts (keeps .venv)
	rm -rf data dbt_project/target dbt_project/logs
