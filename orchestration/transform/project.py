"""The dbt project as Dagster sees it, and how its manifest is kept current without parsing at import."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject

from orchestration.config import DBT_PROJECT_DIR, Settings

#: Files whose change makes the manifest stale.
_DBT_INPUT_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}


def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_cli(project: DbtProject) -> DbtCliResource:
    """The dbt CLI installed beside this interpreter, so an unactivated .venv (no dbt on PATH) works too."""
    return DbtCliResource(
        project_dir=project,
        profiles_dir=str(project.profiles_dir),
        dbt_executable=str(Path(sys.executable).with_name("dbt")),
    )


def export_dbt_env(settings: Settings) -> None:
    """dbt runs as a subprocess that inherits os.environ; its profile reads the (absolute) data dir from there."""
    os.environ["C360_DATA_DIR"] = str(settings.data_dir)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


def manifest_is_stale(project: DbtProject) -> bool:
    manifest = Path(project.manifest_path)
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    return any(
        path.stat().st_mtime > built
        for path in Path(project.project_dir).rglob("*")
        if path.suffix in _DBT_INPUT_SUFFIXES and "target" not in path.parts and "logs" not in path.parts
    )


def ensure_manifest(settings: Settings) -> Path:
    """Parse the dbt project when its manifest is missing or older than any model, macro, seed or YAML file."""
    project = dbt_project()
    if manifest_is_stale(project):
        export_dbt_env(settings)
        dbt_cli(project).cli(["--quiet", "parse"], target_path=project.target_path).wait()
    return Path(project.manifest_path)


class WarehouseTranslator(DagsterDbtTranslator):
    """Asset key = [schema, model] (staging/..., marts/...), group = the model's folder; sources keep their
    `meta.dagster.asset_key` (raw/<table>) so they attach to the extract assets."""

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "model":
            return dbt_resource_props["fqn"][1]
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        return super().get_group_name(dbt_resource_props)
