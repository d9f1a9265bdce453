"""The publish asset: downstream of every mart (and so of every gate); it alone replaces what BI reads."""

import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from orchestration.as_of import run_as_of_date
from orchestration.config import Settings
from orchestration.extract.ledger import mark_published
from orchestration.extract.raw_contract import RAW_TABLES
from orchestration.publish.postgres_serving import publish_to_postgres
from orchestration.publish.publisher import publish
from orchestration.retries import retry_only_transient
from orchestration.run_outcome import outcome_from_events
from orchestration.transform.project import dbt_project
from orchestration.warehouse import connect_file

PUBLISHED_SCHEMA = "marts"


def marts_to_publish(manifest_path: Path) -> list[str]:
    """Every dbt model built into the `marts` schema, read from the manifest (no hand-kept list)."""
    manifest = json.loads(manifest_path.read_text())
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == PUBLISHED_SCHEMA
    )


def data_interval(warehouse_path: Path) -> dict[str, str | None]:
    """First and last order day in the published facts: the period the marts describe."""
    with connect_file(warehouse_path, read_only=True) as con:
        first, last = con.execute(
            f"select min(order_date), max(order_date) from {PUBLISHED_SCHEMA}.fct_orders"
        ).fetchall()[0]
    return {"first_order_date": first and first.isoformat(), "last_order_date": last and last.isoformat()}


def check_summary(instance: dg.DagsterInstance, run_id: str) -> dict[str, object]:
    """Every check this run evaluated before publishing (all passed, or publish would not run)."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=10_000)
    checks = outcome_from_events(run_id, False, [r.event_log_entry.dagster_event for r in records.records]).checks
    return {
        "evaluated": len(checks),
        "passed": sum(c.passed for c in checks),
        "gx_suites": sorted(c.check for c in checks if c.check.startswith("gx_")),
    }


def definitions(settings: Settings) -> dg.Definitions:
    marts = marts_to_publish(Path(dbt_project().manifest_path))

    @dg.asset(
        key=["published", "marts"],
        # Every raw table too: its blocking gate must stop publishing even when no mart reads the table yet (and
        # publishing marks every unpublished load, of every table, as published).
        deps=[dg.AssetKey([PUBLISHED_SCHEMA, name]) for name in marts]
        + [dg.AssetKey(["raw", t.name]) for t in RAW_TABLES],
        group_name="publish",
        kinds={"duckdb"},
        description=f"The read-only file BI tools open: {settings.published_path}. Replaced atomically, only "
        "after every upstream gate passed in this run.",
    )
    def published_marts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        with retry_only_transient():  # a lock (a reader holding the file) or a Postgres outage is retried
            return _publish(context)

    def _publish(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        tables = [(PUBLISHED_SCHEMA, name) for name in marts]
        as_of = run_as_of_date(context.run, settings)
        details = {
            "job": context.run.job_name,
            "as_of_date": as_of.isoformat(),
            "data_interval": data_interval(settings.warehouse_path),
            "checks": check_summary(context.instance, context.run.run_id),
        }
        metadata: dict[str, dg.MetadataValue] = {}
        if settings.postgres_dsn:
            # Postgres first: if the remote swap fails, neither target changed (the local file swap rarely fails).
            pg = publish_to_postgres(
                settings.warehouse_path,
                tables,
                settings.postgres_dsn,
                run_id=context.run.run_id,
                details=details,
                reader_role=settings.postgres_reader_role,
            )
            context.log.info(f"published {len(pg.tables)} tables to postgres schema {pg.schema}")
            metadata["postgres_schema"] = dg.MetadataValue.text(pg.schema)
            metadata["postgres_swap_attempts"] = dg.MetadataValue.int(pg.swap_attempts)
        result = publish(
            warehouse_path=settings.warehouse_path,
            published_path=settings.published_path,
            tables=tables,
            run_id=context.run.run_id,
            details=details,
            keep=settings.publish_keep,
            storage_version=settings.publish_storage_version,
        )
        context.log.info(f"published {len(result.tables)} tables to {result.path}")
        loads = mark_published(settings.warehouse_path, datetime.now(UTC))
        return dg.MaterializeResult(
            metadata={
                **metadata,
                "path": dg.MetadataValue.path(str(result.path)),
                "row_counts": dg.MetadataValue.json(result.tables),
                "previous_version": dg.MetadataValue.text(str(result.previous_version or "")),
                "loads_marked_published": dg.MetadataValue.int(loads),
            }
        )

    return dg.Definitions(assets=[published_marts])
