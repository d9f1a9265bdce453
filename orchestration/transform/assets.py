"""dbt build as Dagster assets: every model/seed is an asset, every dbt test an asset check.

One `dbt build` per run, so dbt orders its own models and tests (the CLV fit and its back-test included: dbt Python
models, orchestration/customer_models/in_dbt.py), and a failed test fails the step, which skips everything downstream
(including publish). dbt runs in this process (orchestration/transform/in_process.py): imported and parsed once per
process, not once per run.
"""

from datetime import date

import dagster as dg
from dagster_dbt import DbtProject, dbt_assets

from orchestration.as_of import run_as_of_date
from orchestration.config import Settings
from orchestration.extract.ledger import any_load_published, reprocess_loaded_since
from orchestration.retries import retry_only_transient
from orchestration.transform.project import (
    WarehouseDbtCli,
    WarehouseTranslator,
    check_pii_key_reaches_dbt,
    dbt_cli,
    dbt_project,
    ensure_manifest,
)
from orchestration.warehouse import connect_warehouse

#: dbt unit tests check the SQL's logic on fixed fixtures, not the day's data: as dbt's docs advise, they run in
#: development and CI (tests/test_dbt_unit_tests.py), not in every production build.
UNIT_TESTS_EXCLUDED = ("--exclude-resource-type", "unit_test")


def _dbt_build(name: str, project: DbtProject, settings: Settings) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=project.manifest_path, project=project, dagster_dbt_translator=WarehouseTranslator(), name=name
    )
    def _build(context: dg.AssetExecutionContext, dbt: WarehouseDbtCli):
        check_pii_key_reaches_dbt(settings)
        as_of = run_as_of_date(context.run, settings)
        as_of_date = as_of.isoformat()
        run_settings = {
            "as_of_date": as_of_date,
            "reporting_currency": settings.reporting_currency,
            "fx_max_rate_age_days": str(settings.fx_max_rate_age_days),
            "clv_margin": str(settings.clv_margin),
            "clv_monthly_discount_rate": str(settings.clv_monthly_discount_rate),
        }
        context.log.info(f"dbt build as of {as_of_date} in {settings.reporting_currency}")
        with retry_only_transient(context.run.run_id, context.retry_number):  # a failed test is final, a lock retried
            since, published_before = reprocess_window(settings)
            run_settings["reprocess_loaded_since"] = since
            run_settings["test_window_since"] = reconciliation_window(settings, as_of, since, published_before)
            invocation = dbt.cli_with_run_settings(["build", *UNIT_TESTS_EXCLUDED], run_settings, context=context)
            yield from invocation.stream()

    return _build


def reconciliation_window(settings: Settings, as_of: date, since: str, published_before: bool = True) -> str:
    """Run setting `test_window_since`: where the reconciliation tests over incremental models start (`since`, the
    rows this run reprocesses), or empty, all history: with C360_DBT_TEST_SCOPE=full, and on the runs as of
    C360_DBT_FULL_TEST_WEEKDAY, so a defect outside any run's window (an old row changed in place) surfaces within a
    week without a full check every day. The as-of date, not the clock, decides: a backfilled day checks the same.
    Also empty until a first publish (`published_before` False): the window then holds every row, and checking all
    of them costs less than finding the window's (L, alone: identity convergence 40.6 s -> 15.8 s, web sessions
    56.1 s -> 45.2 s)."""
    if not published_before or settings.dbt_test_scope == "full" or as_of.weekday() == settings.dbt_full_test_weekday:
        return ""
    return since


def reprocess_window(settings: Settings) -> tuple[str, bool]:
    """What the ledger says of this run's data: the run setting `reprocess_loaded_since`, where incremental models
    start reading (the earliest load not yet published; empty when every load is published), and whether any load
    was published before (reconciliation_window)."""
    if not settings.warehouse_path.exists():
        return "", False
    with connect_warehouse(settings, read_only=True) as con:
        since = reprocess_loaded_since(con)
        published_before = any_load_published(con)
    return (since.isoformat() if since else ""), published_before


def definitions(settings: Settings) -> dg.Definitions:
    project = dbt_project()
    # Not `project.prepare_if_dev()`: under `dagster dev` that parses the project in every process loading this code
    # (the code server and each run's worker: ~20 s each); this parses only when a dbt file changed.
    ensure_manifest(settings)
    return dg.Definitions(
        assets=[_dbt_build("dbt_warehouse", project, settings)],
        resources={"dbt": dbt_cli(project, settings)},
    )
