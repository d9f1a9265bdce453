"""dbt build as Dagster assets: every model/seed is an asset, every dbt test an asset check."""

import json

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets
from pydantic import Field

from orchestration.as_of import DBT_OP, resolve_as_of_date
from orchestration.config import Settings
from orchestration.transform.project import WarehouseTranslator, dbt_cli, dbt_project, export_dbt_env


class WarehouseRunConfig(dg.Config):
    """Run-level settings for the dbt build."""

    as_of_date: str = Field(
        default="",
        description="YYYY-MM-DD the marts are computed as of; empty = the landing data's end date, else today (UTC).",
    )


def definitions(settings: Settings) -> dg.Definitions:
    project = dbt_project()
    project.prepare_if_dev()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=WarehouseTranslator(),
        name=DBT_OP,
    )
    def warehouse(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: WarehouseRunConfig):
        as_of_date = resolve_as_of_date(config.as_of_date, settings).isoformat()
        dbt_vars = {"as_of_date": as_of_date, "reporting_currency": settings.reporting_currency}
        context.log.info(f"dbt build as of {as_of_date} in {settings.reporting_currency}")
        export_dbt_env(settings)
        yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context).stream()

    return dg.Definitions(
        assets=[warehouse],
        resources={"dbt": dbt_cli(project)},
    )
