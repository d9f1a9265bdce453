"""The publish asset: downstream of every mart (and so of every gate); it alone replaces what BI reads."""

import json
from pathlib import Path

import dagster as dg

from orchestration.config import Settings
from orchestration.publish.postgres import publish_to_postgres
from orchestration.publish.publisher import publish
from orchestration.transform.project import dbt_project

PUBLISHED_SCHEMA = "marts"


def marts_to_publish(manifest_path: Path) -> list[str]:
    """Every dbt model built into the `marts` schema, read from the manifest (no hand-kept list)."""
    manifest = json.loads(manifest_path.read_text())
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == PUBLISHED_SCHEMA
    )


def definitions(settings: Settings) -> dg.Definitions:
    marts = marts_to_publish(Path(dbt_project().manifest_path))

    @dg.asset(
        key=["published", "marts"],
        deps=[dg.AssetKey([PUBLISHED_SCHEMA, name]) for name in marts],
        group_name="publish",
        kinds={"duckdb"},
        description=f"The read-only file BI tools open: {settings.published_path}. Replaced atomically, only "
        "after every upstream gate passed in this run.",
    )
    def published_marts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        tables = [(PUBLISHED_SCHEMA, name) for name in marts]
        details = {"job": context.run.job_name}
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
        return dg.MaterializeResult(
            metadata={
                **metadata,
                "path": dg.MetadataValue.path(str(result.path)),
                "row_counts": dg.MetadataValue.json(result.tables),
                "previous_version": dg.MetadataValue.text(str(result.previous_version or "")),
            }
        )

    return dg.Definitions(assets=[published_marts])
