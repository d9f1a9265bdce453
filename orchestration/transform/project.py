"""The dbt project as Dagster sees it, and how its manifest is kept current without parsing at import."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject
from packaging.version import Version

from orchestration.config import DBT_PROJECT_DIR, Settings, SettingsError, pii_key
from orchestration.warehouse import duckdb_config

#: The dbt-duckdb plugin that registers the keyed `c360_pseudonym` function on dbt's connection.
PSEUDONYM_PLUGIN = "orchestration.transform.pseudonym_plugin"

#: Files whose change makes the manifest stale.
_DBT_INPUT_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}


def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


class WarehouseDbtCli(DbtCliResource):
    """dagster-dbt's resource without two costs every `dbt.cli()` call paid for features this project does not use
    (measured per run, on a loaded 2-core machine: ~4 s CPU and ~5 s CPU):

    - `dbt --version` in a subprocess (a whole dbt start-up), to tell dbt Core from the Fusion engine: the dbt
      run here is always the dbt-core installed beside this interpreter (`dbt_executable`), so its version is read
      from the package metadata;
    - an in-process dbt adapter, built by parsing every macro again, used only by `fetch_row_counts()` and
      `fetch_column_metadata()`, which no asset here calls; without it dagster-dbt streams events as usual.

    Both override private members of the pinned dagster-dbt: `tests/test_definitions.py` fails if an upgrade
    renames them (the overrides would then silently stop saving anything)."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def dbt_cli(project: DbtProject, settings: Settings) -> DbtCliResource:
    """The dbt CLI installed beside this interpreter (so an unactivated .venv works too), with the profile of this
    data dir: configuration reaches dbt through the resource, never through this process's environment."""
    return WarehouseDbtCli(
        project_dir=project,
        profiles_dir=str(write_dbt_profile(settings)),
        dbt_executable=str(Path(sys.executable).with_name("dbt")),
    )


def published_dbt_cli(settings: Settings) -> DbtCliResource:
    """dbt under the `published` target: for parsing the semantic layer and building the docs site."""
    return DbtCliResource(
        project_dir=dbt_project(),
        profiles_dir=str(write_published_profile(settings)),
        dbt_executable=str(Path(sys.executable).with_name("dbt")),
        target=PUBLISHED_TARGET,
        global_config_flags=["--no-send-anonymous-usage-stats"],  # a user's `make docs` never phones home
    )


def dbt_profile(settings: Settings) -> dict[str, Any]:
    """The `c360` profile for this data dir: the warehouse path and DuckDB settings from Settings (the committed
    dbt_project/profiles.yml, read from $C360_DATA_DIR, is for running dbt by hand)."""
    output: dict[str, Any] = {
        "type": "duckdb",
        "path": str(settings.warehouse_path),
        "threads": 2,
        "plugins": [{"module": PSEUDONYM_PLUGIN}],  # reads the PII key from dbt's environment, not from here
    }
    duckdb_settings = duckdb_config(settings)
    if duckdb_settings:
        output["settings"] = duckdb_settings
    return {"c360": {"target": "duckdb", "outputs": {"duckdb": output}}}


#: The dbt target whose relations are the published marts file's (every mart in schema `main`, see the
#: generate_schema_name macro): what the semantic layer and the docs site describe.
PUBLISHED_TARGET = "published"


def published_profile(settings: Settings) -> dict[str, Any]:
    """The `c360` profile with one target, the published file, opened read-only and without access to other files
    (the hardening of orchestration.warehouse.connect_published): dbt reading the catalog for the docs site never
    takes the file's write lock, so a publish swap never waits on it."""
    output = {
        "type": "duckdb",
        "path": str(settings.published_path),
        "threads": 1,
        "config_options": {"access_mode": "READ_ONLY", "enable_external_access": False},
    }
    return {"c360": {"target": PUBLISHED_TARGET, "outputs": {PUBLISHED_TARGET: output}}}


def check_pii_key_reaches_dbt(settings: Settings) -> None:
    """dbt reads the PII key from this process's environment (dagster-dbt passes it on); Settings may come from
    another mapping. Refuse to build when the two differ, rather than publish pseudonyms under an unintended key."""
    if pii_key(os.environ)[0] != settings.pii_key:
        raise SettingsError(
            "the PII key of these settings is not the one in this process's environment, where dbt reads it: "
            "set C360_PII_KEY (or C360_PII_KEY_FILE) in the environment of the process that runs the job"
        )


def write_dbt_profile(settings: Settings) -> Path:
    """Write profiles.yml under $C360_DATA_DIR/dbt_profile (only when it changes, so dbt's partial parse holds)."""
    return _write_profile(settings.data_dir / "dbt_profile", dbt_profile(settings))


def write_published_profile(settings: Settings) -> Path:
    """The published target's profiles.yml, under $C360_DATA_DIR/published_profile."""
    return _write_profile(settings.data_dir / "published_profile", published_profile(settings))


def _write_profile(folder: Path, profile: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "profiles.yml"
    text = json.dumps(profile, indent=2, sort_keys=True) + "\n"  # JSON is YAML
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return folder


def manifest_is_stale(project: DbtProject) -> bool:
    return artifact_is_stale(Path(project.manifest_path))


def artifact_is_stale(artifact: Path) -> bool:
    """True when a dbt artifact (a manifest, a semantic manifest) is missing or older than any dbt input file."""
    if not artifact.exists():
        return True
    built = artifact.stat().st_mtime
    return any(
        path.stat().st_mtime > built
        for path in DBT_PROJECT_DIR.rglob("*")
        if path.suffix in _DBT_INPUT_SUFFIXES and "target" not in path.parts and "logs" not in path.parts
    )


def ensure_manifest(settings: Settings) -> Path:
    """Parse the dbt project when its manifest is missing or older than any model, macro, seed or YAML file."""
    project = dbt_project()
    if manifest_is_stale(project):
        dbt_cli(project, settings).cli(["--quiet", "parse"], target_path=project.target_path).wait()
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
