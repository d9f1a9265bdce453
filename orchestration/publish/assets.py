"""The publish assets: downstream of every mart (and so of every gate); they alone replace what BI reads.

Two serving targets, failing independently: the DuckDB file (`published/marts`) is the product's own and is
published first; the optional PostgreSQL schema (`published/postgres`) is a copy of that same checked build. If
Postgres is down, the file is still published, the Postgres step fails (the run is alerted with the cause) and
Postgres keeps serving its previous complete marts, stale, until the next run publishes there again: every run
copies the whole build, so one good run catches it up. Consistency rule: each target always serves one complete,
checked run; Postgres may lag the file by whole runs, never hold a mix.
"""

import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from orchestration.as_of import run_as_of_date
from orchestration.config import Settings
from orchestration.data_dir import enforce_permissions, ensure_data_dir
from orchestration.extract.ledger import mark_published
from orchestration.extract.raw_contract import RAW_TABLES
from orchestration.publish.mart_docs import TableDoc, mart_docs
from orchestration.publish.postgres_serving import publish_to_postgres
from orchestration.publish.publisher import PUBLISH_LOG, publish
from orchestration.publish.retention import (
    prune_activation_exports,
    prune_dbt_run_dirs,
    prune_landing,
    prune_published_copies,
    prune_quarantine,
)
from orchestration.retries import retry_only_transient
from orchestration.run_outcome import outcome_from_events
from orchestration.transform.project import dbt_project, project_target_dir
from orchestration.warehouse import connect_file, connect_published, duckdb_config

PUBLISHED_SCHEMA = "marts"


def _published_models(manifest_path: Path) -> list[dict]:
    manifest = json.loads(manifest_path.read_text())
    return [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == PUBLISHED_SCHEMA
    ]


def marts_to_publish(manifest_path: Path) -> list[str]:
    """Every dbt model built into the `marts` schema, read from the manifest (no hand-kept list)."""
    return sorted(node["name"] for node in _published_models(manifest_path))


def published_docs(manifest_path: Path) -> dict[str, TableDoc]:
    """Comments and keys of every published mart (mart_docs.py), from the same manifest."""
    return mart_docs(json.loads(manifest_path.read_text()), marts_to_publish(manifest_path))


def file_docs(docs: dict[str, TableDoc], file_keys: str) -> dict[str, TableDoc]:
    """What the published DuckDB file holds (C360_PUBLISH_FILE_KEYS): every comment; primary and unique keys unless
    `none` (checked by a query, or with `primary` declared); foreign keys only if `enforced` (DuckDB indexes each
    one's columns: ~30 s of an M publish, and no DuckDB BI driver reads them). PostgreSQL serving is handed `docs`
    as they are."""
    if file_keys == "enforced":
        return docs
    if file_keys in ("checked", "primary"):
        return {name: doc.without_foreign_keys() for name, doc in docs.items()}
    return {name: doc.without_keys() for name, doc in docs.items()}


def file_declares_keys(file_keys: str) -> bool:
    """Whether the published DuckDB file declares the keys of `file_docs` as constraints (indexes) or, with
    `checked`, the publisher checks them by a query and declares none."""
    return file_keys != "checked"


def activation_marts(manifest_path: Path) -> tuple[str, ...]:
    """The published marts marketing tools may read (`meta: {activation: true}`: consented audiences only)."""
    return tuple(
        sorted(node["name"] for node in _published_models(manifest_path) if node["config"]["meta"].get("activation"))
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
    audiences = activation_marts(Path(dbt_project().manifest_path))
    docs = published_docs(Path(dbt_project().manifest_path))
    docs_in_file = file_docs(docs, settings.publish_file_keys)

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
        with retry_only_transient(context.run.run_id, context.retry_number):  # a lock (a reader) is retried
            return _publish(context)

    def _publish(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        ensure_data_dir(settings)
        tables = [(PUBLISHED_SCHEMA, name) for name in marts]
        as_of = run_as_of_date(context.run, settings)
        details = {
            "job": context.run.job_name,
            "as_of_date": as_of.isoformat(),
            "data_interval": data_interval(settings.warehouse_path),
            "checks": check_summary(context.instance, context.run.run_id),
        }
        result = publish(
            warehouse_path=settings.warehouse_path,
            published_path=settings.published_path,
            tables=tables,
            run_id=context.run.run_id,
            details=details,
            keep=settings.publish_keep,
            storage_version=settings.publish_storage_version,
            docs=docs_in_file,
            config=duckdb_config(settings),
            declare_keys=file_declares_keys(settings.publish_file_keys),
        )
        context.log.info(f"published {len(result.tables)} tables to {result.path}")
        loads = mark_published(settings.warehouse_path, datetime.now(UTC))
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(result.path)),
                "row_counts": dg.MetadataValue.json(result.tables),
                "previous_version": dg.MetadataValue.text(str(result.previous_version or "")),
                "loads_marked_published": dg.MetadataValue.int(loads),
            }
        )

    @dg.asset(
        key=["published", "retention"],
        deps=[published_marts, dg.AssetKey(["published", "activation"])],  # after the audience export too
        group_name="publish",
        kinds={"duckdb"},
        description="After every successful publish: delete landing files, quarantine rows, published copies and "
        "dbt's run dirs older than their retention (C360_*_RETENTION_DAYS, C360_PUBLISH_MAX_AGE_DAYS) and set the "
        "data dir's file modes (only published/ readable by other users).",
    )
    def retention(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        now = datetime.now(UTC)
        landing = (
            prune_landing(settings.warehouse_path, settings.landing_dir, settings.landing_retention_days, now)
            if settings.source == "files"
            else []
        )
        quarantined, released = prune_quarantine(
            settings.warehouse_path, settings.quarantine_retention_days, now, duckdb_config(settings)
        )
        copies = prune_published_copies(settings.published_path, settings.publish_max_age_days, now)
        exports = prune_activation_exports(
            settings.activation_dir, settings.publish_keep, settings.publish_max_age_days, now
        )
        dbt_runs = prune_dbt_run_dirs(project_target_dir(dbt_project()), settings.dbt_run_dir_retention_days, now)
        modes = enforce_permissions(settings)
        context.log.info(
            f"retention: {len(landing)} landing files, {quarantined} quarantine rows, {len(copies)} published "
            f"copies, {len(exports)} audience exports, {len(dbt_runs)} dbt run dirs deleted; {modes.changed} file "
            "modes set"
        )
        for path in modes.not_owned:
            context.log.warning(f"{path}: owned by another user, its mode could not be made private")
        return dg.MaterializeResult(
            metadata={
                "landing_files_deleted": dg.MetadataValue.int(len(landing)),
                "quarantine_rows_deleted": dg.MetadataValue.int(quarantined),
                "published_copies_deleted": dg.MetadataValue.int(len(copies)),
                "activation_exports_deleted": dg.MetadataValue.int(len(exports)),
                "dbt_run_dirs_deleted": dg.MetadataValue.int(len(dbt_runs)),
                "warehouse_bytes_released": dg.MetadataValue.int(released),
                "deleted_files": dg.MetadataValue.json(
                    {"landing": landing, "published": copies, "activation": exports, "dbt_runs": dbt_runs}
                ),
                "file_modes_set": dg.MetadataValue.int(modes.changed),
                "file_modes_not_settable": dg.MetadataValue.json(modes.not_owned),
                "retention_days": dg.MetadataValue.json(
                    {
                        "landing": settings.landing_retention_days,
                        "quarantine": settings.quarantine_retention_days,
                        "published_copies": settings.publish_max_age_days,
                        "dbt_run_dirs": settings.dbt_run_dir_retention_days,
                    }
                ),
            }
        )

    assets = [published_marts, retention]
    if settings.postgres_dsn:
        assets.append(_postgres_serving_asset(settings, marts, audiences, docs, published_marts))
    return dg.Definitions(assets=assets)


def _postgres_serving_asset(
    settings: Settings,
    marts: list[str],
    audiences: list[str],
    docs: dict[str, TableDoc],
    published_marts: dg.AssetsDefinition,
) -> dg.AssetsDefinition:
    """The PostgreSQL copy of the run's checked marts; only defined when C360_POSTGRES_DSN is set."""

    @dg.asset(
        key=["published", "postgres"],
        deps=[published_marts],
        group_name="publish",
        kinds={"postgres"},
        description="The same checked marts as the DuckDB file, swapped into the PostgreSQL `marts` schema. Fails on "
        "its own: an outage leaves the file published and Postgres serving its previous run until the next run.",
    )
    def published_postgres(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        with connect_published(settings.published_path) as con:
            (details,) = con.execute(f"select details from {PUBLISH_LOG}").fetchall()[0]
        with retry_only_transient(context.run.run_id, context.retry_number):  # a connection drop or a lock is retried
            pg = publish_to_postgres(
                settings.warehouse_path,
                [(PUBLISHED_SCHEMA, name) for name in marts],
                settings.postgres_dsn,
                run_id=context.run.run_id,
                details=json.loads(details),
                reader_role=settings.postgres_reader_role,
                activation_role=settings.postgres_activation_role,
                activation_tables=audiences,
                docs=docs,
            )
        context.log.info(f"published {len(pg.tables)} tables to postgres schema {pg.schema}")
        return dg.MaterializeResult(
            metadata={
                "postgres_schema": dg.MetadataValue.text(pg.schema),
                "postgres_swap_attempts": dg.MetadataValue.int(pg.swap_attempts),
                "row_counts": dg.MetadataValue.json(pg.tables),
            }
        )

    return published_postgres
