"""The dbt project as Dagster sees it, and how its manifest is kept current without parsing at import."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shlex
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliInvocation, DbtCliResource, DbtProject
from packaging.version import Version

from orchestration.config import DBT_PROJECT_DIR, Settings, SettingsError, pii_key
from orchestration.data_dir import PRIVATE_EXECUTABLE_MODE
from orchestration.transform.run_settings import run_setting_environment
from orchestration.warehouse import duckdb_config

#: The dbt-duckdb plugin that registers the keyed `c360_pseudonym` function on dbt's connection.
PSEUDONYM_PLUGIN = "orchestration.transform.pseudonym_plugin"

#: A dbt call's own target dir under the project's (`WarehouseDbtCli._absolute_target_path`): the step's name, the
#: run id's first 7 characters and a call id of 7 hex digits. Retention deletes old ones (publish/retention.py).
RUN_TARGET_DIR = re.compile(r"[a-z_]+-[0-9a-f]{7}-[0-9a-f]{7}")

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

    def cli_with_run_settings(
        self, args: Sequence[str], run_settings: Mapping[str, str], *, context: dg.AssetExecutionContext
    ) -> DbtCliInvocation:
        """`cli()` with this run's settings (as_of_date, ...) in dbt's environment as `C360_RUN_<NAME>`, which the
        `run_setting` macro reads while executing. Not `--vars`: dbt re-parses the whole project whenever `--vars`
        change (every day, for the as-of date). dagster-dbt starts dbt with a copy of this process's environment
        and has no per-call one, so the settings go to the launcher (`write_dbt_launcher`) as leading
        `--run-setting C360_RUN_NAME=VALUE` arguments, which it exports for dbt alone: this process's environment
        is never changed. The copy of this resource that carries them keeps every other field."""
        flags = [
            arg for pair in run_setting_environment(run_settings).items() for arg in ("--run-setting", "=".join(pair))
        ]
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        with_settings = type(self)(**{**fields, "global_config_flags": [*flags, *self.global_config_flags]})
        return with_settings.cli(args, context=context, target_path=self._absolute_target_path(context))

    def _absolute_target_path(self, context: dg.AssetExecutionContext) -> Path:
        """This call's own target dir, as dagster-dbt names it, but absolute: dbt runs in the data dir (see
        `write_dbt_launcher`), and dagster-dbt's relative default would put dbt's log there."""
        name = f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"
        return project_target_dir(dbt_project()) / name


def dbt_cli(project: DbtProject, settings: Settings) -> WarehouseDbtCli:
    """The dbt CLI installed beside this interpreter (so an unactivated .venv works too), with the profile of this
    data dir: configuration reaches dbt through the resource and the launcher (the run's settings through
    `cli_with_run_settings`), never through this process's environment."""
    return WarehouseDbtCli(
        project_dir=project,
        profiles_dir=str(write_dbt_profile(settings)),
        dbt_executable=str(write_dbt_launcher(settings)),
    )


def published_dbt_cli(settings: Settings) -> WarehouseDbtCli:
    """dbt under the `published` target: for parsing the semantic layer and building the docs site (without
    dagster-dbt's version subprocess and in-process adapter, as every dbt call here)."""
    return WarehouseDbtCli(
        project_dir=dbt_project(),
        profiles_dir=str(write_published_profile(settings)),
        dbt_executable=str(Path(sys.executable).with_name("dbt")),
        target=PUBLISHED_TARGET,
        global_config_flags=["--no-send-anonymous-usage-stats"],  # a user's `make docs` never phones home
    )


def dbt_profile(settings: Settings) -> dict[str, Any]:
    """The `c360` profile for this data dir: the warehouse and DuckDB settings from Settings, with paths relative to
    the data dir, where `write_dbt_launcher` starts dbt. So every data dir has the same profile, and dbt's parse
    cache (which a different profile invalidates: ~11 s of re-parsing) carries from the project's manifest to every
    data dir's first run: a new deployment, a restored backup, each test's copy. The committed
    dbt_project/profiles.yml, read from $C360_DATA_DIR, is for running dbt by hand."""
    output: dict[str, Any] = {
        "type": "duckdb",
        "path": settings.warehouse_path.relative_to(settings.data_dir).as_posix(),
        "threads": 2,
        "plugins": [{"module": PSEUDONYM_PLUGIN}],  # reads the PII key from dbt's environment, not from here
    }
    duckdb_settings = duckdb_config(settings)
    duckdb_settings["temp_directory"] = settings.duckdb_temp_dir.relative_to(settings.data_dir).as_posix()
    output["settings"] = duckdb_settings
    return {"c360": {"target": "duckdb", "outputs": {"duckdb": output}}}


def write_dbt_launcher(settings: Settings) -> Path:
    """The dbt executable of this data dir's runs: dbt installed beside this interpreter (so an unactivated .venv
    works too), started in the data dir, which the relative paths of `dbt_profile` are read from. dbt finds the
    project through DBT_PROJECT_DIR, which dagster-dbt sets (it starts dbt in the project dir)."""
    launcher = settings.dbt_launcher_path
    launcher.parent.mkdir(parents=True, exist_ok=True)
    dbt = Path(sys.executable).with_name("dbt")
    text = (
        "#!/bin/sh\n# Written by c360: dbt, started in its data dir; leading `--run-setting NAME=VALUE` pairs are\n"
        "# exported for dbt's run_setting macro (WarehouseDbtCli.cli_with_run_settings).\n"
        'while [ "$1" = --run-setting ]; do export "$2"; shift 2; done\n'
        f'cd {shlex.quote(str(settings.data_dir))} && exec {shlex.quote(str(dbt))} "$@"\n'
    )
    if not launcher.exists() or launcher.read_text() != text:
        tmp = launcher.with_name(f".dbt.{os.getpid()}")
        tmp.write_text(text)
        os.replace(tmp, launcher)
    launcher.chmod(PRIVATE_EXECUTABLE_MODE)
    return launcher


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


def project_target_dir(project: DbtProject) -> Path:
    """The project's own target dir (manifest, parse cache, each dbt call's dir), absolute: `project.target_path` is
    relative to the project dir, not to this process's working directory."""
    return Path(project.project_dir) / project.target_path


def project_parse_cache(project: DbtProject) -> Path:
    """The parse cache in the project's target dir, which dagster-dbt copies into each call's target path."""
    return project_target_dir(project) / "partial_parse.msgpack"


def manifest_is_stale(project: DbtProject) -> bool:
    return artifact_is_stale(Path(project.manifest_path))


def artifact_is_stale(artifact: Path) -> bool:
    """True when a dbt artifact (a manifest, a semantic manifest) is missing or older than any dbt input file."""
    if not artifact.exists():
        return True
    built = artifact.stat().st_mtime
    return any(path.stat().st_mtime > built for path in _dbt_input_files())


def _dbt_input_files() -> Iterator[Path]:
    """The project's models, macros, seeds, YAML and docs, without walking dbt's output (`target/`, which holds
    every run's compiled SQL, and `logs/`)."""
    for folder, subfolders, names in os.walk(DBT_PROJECT_DIR):
        subfolders[:] = [name for name in subfolders if name not in ("target", "logs")]
        yield from (Path(folder, name) for name in names if Path(name).suffix in _DBT_INPUT_SUFFIXES)


def ensure_manifest(settings: Settings) -> Path:
    """Parse the dbt project when its manifest is missing or older than any model, macro, seed or YAML file. Under
    an exclusive lock: processes that start together (a test session's workers, `dagster dev`'s code server and a
    run's worker) parse once, the others wait for it instead of writing the same target dir at once and reading a
    half-written manifest."""
    project = dbt_project()
    target = project_target_dir(project)
    target.mkdir(parents=True, exist_ok=True)
    with (target / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
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
