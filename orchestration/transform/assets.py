"""dbt build as Dagster assets: every model/seed is an asset, every dbt test an asset check."""

import json
from datetime import UTC, datetime

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets
from pydantic import Field

from orchestration.config import Settings
from orchestration.sources.landing import LandingError, read_manifest
from orchestration.transform.project import WarehouseTranslator, dbt_cli, dbt_project, export_dbt_env


class WarehouseRunConfig(dg.Config):
    """Run-level settings for the dbt build."""

    as_of_date: str = Field(
        default="",
        description="YYYY-MM-DD the marts are computed as of; empty = the landing data's end date, else today (UTC).",
    )


def resolve_as_of_date(requested: str, settings: Settings) -> str:
    """Explicit date > the generated dataset's end date > today's UTC date (a daily run's natural as-of)."""
    if requested:
        return datetime.strptime(requested, "%Y-%m-%d").date().isoformat()
    try:
        end_date = read_manifest(settings.landing_dir).get("end_date")
    except LandingError:  # real sources have no generator manifest
        end_date = None
    return str(end_date) if end_date else datetime.now(UTC).date().isoformat()


def definitions(settings: Settings) -> dg.Definitions:
    project = dbt_project()
    project.prepare_if_dev()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=WarehouseTranslator(),
        name="dbt_warehouse",
    )
    def warehouse(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: WarehouseRunConfig):
        as_of_date = resolve_as_of_date(config.as_of_date, settings)
        dbt_vars = {"as_of_date": as_of_date, "reporting_currency": settings.reporting_currency}
        context.log.info(f"dbt build as of {as_of_date} in {settings.reporting_currency}")
        export_dbt_env(settings)
        yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context).stream()

    return dg.Definitions(
        assets=[warehouse],
        resources={"dbt": dbt_cli(project)},
    )
