"""The dbt project as Dagster sees it, and how its manifest is kept current without parsing at import."""

from __future__ import annotations

import fcntl
import json
import os
import re
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliInvocation, DbtCliResource, DbtProject
from dagster_dbt.asset_utils import extract_runtime_selection_from_args, get_updated_cli_invocation_params_for_context
from packaging.version import Version

from orchestration.config import DBT_PROJECT_DIR, PUBLISHED_PATH_IN_DATA_DIR, Settings, SettingsError, pii_key
from orchestration.transform.in_process import InProcessDbt, parsed_manifest
from orchestration.warehouse import duckdb_config

#: The dbt-duckdb plugin that creates the keyed `c360_keyring.c360_pseudonym` macro on dbt's DuckDB instance.
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

    #: The profile the daily build runs with (`write_dbt_build_profile`); `profiles_dir` holds the one dbt parses with.
    warehouse_profiles_dir: str | None = None

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None

    def cli_with_run_settings(
        self, args: Sequence[str], run_settings: Mapping[str, str], *, context: dg.AssetExecutionContext
    ) -> DbtCliInvocation:
        """`cli()` with this run's settings (as_of_date, ...) as dbt vars, run in this process (`InProcessDbt` through
        `invoke_dbt`): dbt is imported and the project parsed once per process, not per call. The vars reach dbt's
        `run_setting` macro while it executes (the Python models read them through `settings_of_this_dbt_call`);
        they cannot make dbt re-parse, since the parsed manifest is reused as it is. The selection of the step's
        assets and checks is dagster-dbt's, as `cli()` makes it; dbt's output reaches dagster-dbt's invocation as a
        subprocess's would, so its events and errors are dagster-dbt's own."""
        cleaned, selects, excludes = extract_runtime_selection_from_args(args)
        params = get_updated_cli_invocation_params_for_context(  # the manifest and translator of the step's assets
            context=context,
            manifest={},
            dagster_dbt_translator=DagsterDbtTranslator(),
            runtime_selects=selects,
            runtime_excludes=excludes,
        )
        project_dir = Path(params.dbt_project.project_dir if params.dbt_project else self.project_dir)
        target_path = self._absolute_target_path(context)
        indirect = ["--indirect-selection", params.indirect_selection] if params.indirect_selection else []
        dbt_args = [
            *cleaned,
            "--project-dir", str(project_dir),
            "--profiles-dir", str(self.warehouse_profiles_dir),
            "--target-path", str(target_path),
            "--log-path", str(target_path),
            "--log-level", "none",  # dbt's console output is the event stream dagster-dbt reads
            "--log-level-file", "none",  # dbt.log is InProcessDbt's: every node's start, result and error (debug,
            # each SQL statement, would cost ~0.8 s CPU more at XS; run/ holds the SQL)
            "--no-send-anonymous-usage-stats",
            *indirect,
            *params.selection_args,
        ]  # fmt: skip
        manifest = parsed_manifest(Path(self.project_dir), Path(self.profiles_dir), project_parse_cache(dbt_project()))
        return DbtCliInvocation(
            process=InProcessDbt(  # type: ignore[arg-type]  # the Popen interface it reads
                dbt_args, manifest, run_settings, log_file=target_path / "dbt.log"
            ),
            manifest=params.manifest,
            dagster_dbt_translator=params.dagster_dbt_translator,
            project_dir=project_dir,
            target_path=target_path,
            raise_on_error=True,
            context=context,
            adapter=None,
            cli_version=self._cli_version,
            project=params.dbt_project,
        )

    def _absolute_target_path(self, context: dg.AssetExecutionContext) -> Path:
        """This call's own target dir, as dagster-dbt names it, but absolute: dagster-dbt's default is relative to
        the working directory, which is not the project's for a dbt run in this process."""
        name = f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"
        return project_target_dir(dbt_project()) / name


def dbt_cli(project: DbtProject, settings: Settings) -> WarehouseDbtCli:
    """The dbt CLI installed beside this interpreter (so an unactivated .venv works too), with the profile of this
    data dir: configuration reaches dbt through the resource (the run's settings through `cli_with_run_settings`),
    never through this process's environment."""
    return WarehouseDbtCli(
        project_dir=project,
        profiles_dir=str(write_dbt_profile(settings)),
        warehouse_profiles_dir=str(write_dbt_build_profile(settings)),
        dbt_executable=str(Path(sys.executable).with_name("dbt")),
    )


def published_dbt_cli(settings: Settings) -> WarehouseDbtCli:
    """dbt under the `published` target of this data dir: for building the docs site (without dagster-dbt's version
    subprocess and in-process adapter, as every dbt call here)."""
    return _published_cli(write_published_profile(settings))


def published_parse_cli(profiles_dir: Path) -> WarehouseDbtCli:
    """dbt under the `published` target for a parse only, with its profile written to `profiles_dir`: the published
    file's path relative to a data dir, so the profile (which dbt's parse cache is keyed on) is every data dir's."""
    return _published_cli(_write_profile(profiles_dir, published_profile(PUBLISHED_PATH_IN_DATA_DIR)))


def _published_cli(profiles_dir: Path) -> WarehouseDbtCli:
    return WarehouseDbtCli(
        project_dir=dbt_project(),
        profiles_dir=str(profiles_dir),
        dbt_executable=str(Path(sys.executable).with_name("dbt")),
        target=PUBLISHED_TARGET,
        global_config_flags=["--no-send-anonymous-usage-stats"],  # a user's `make docs` never phones home
    )


def dbt_profile(settings: Settings) -> dict[str, Any]:
    """The `c360` profile for this data dir, as dbt parses the project with it: the warehouse and DuckDB settings
    from Settings, with paths relative to the data dir. So every data dir has the same profile, and the project's
    parse cache (which a different profile invalidates: ~11 s of re-parsing) serves every data dir: a new
    deployment, a restored backup, each test's copy. The build runs with the same profile, its paths absolute
    (`write_dbt_build_profile`). The committed dbt_project/profiles.yml, read from $C360_DATA_DIR, is for running
    dbt by hand."""
    output: dict[str, Any] = {
        "type": "duckdb",
        "path": settings.warehouse_path.relative_to(settings.data_dir).as_posix(),
        "threads": settings.dbt_threads,
        "plugins": [{"module": PSEUDONYM_PLUGIN}],  # reads the PII key from dbt's environment, not from here
    }
    duckdb_settings = duckdb_config(settings)
    duckdb_settings["temp_directory"] = settings.duckdb_temp_dir.relative_to(settings.data_dir).as_posix()
    # config_options, not settings: dbt-duckdb applies `settings` with SET on every cursor it opens, and DuckDB
    # refuses to set temp_directory again once a query has spilled ("Cannot switch temporary directory after the
    # current one has been used"): the L build failed there. config_options apply once, when the database opens.
    output["config_options"] = duckdb_settings
    return {"c360": {"target": "duckdb", "outputs": {"duckdb": output}}}


#: The dbt target whose relations are the published marts file's (every mart in schema `main`, see the
#: generate_schema_name macro): what the semantic layer and the docs site describe.
PUBLISHED_TARGET = "published"


def published_profile(path: str) -> dict[str, Any]:
    """The `c360` profile with one target, the published file at `path`, opened read-only and without access to
    other files (the hardening of orchestration.warehouse.connect_published): dbt reading the catalog for the docs
    site never takes the file's write lock, so a publish swap never waits on it."""
    output = {
        "type": "duckdb",
        "path": path,
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


def write_dbt_build_profile(settings: Settings) -> Path:
    """The same profile with absolute paths, under $C360_DATA_DIR/dbt_profile/build: the daily build runs in this
    process (`WarehouseDbtCli.cli_with_run_settings`), whose working directory is not the data dir."""
    profile = dbt_profile(settings)
    output = profile["c360"]["outputs"]["duckdb"]
    output["path"] = str(settings.warehouse_path)
    output["config_options"]["temp_directory"] = str(settings.duckdb_temp_dir)
    return _write_profile(settings.data_dir / "dbt_profile" / "build", profile)


def write_published_profile(settings: Settings) -> Path:
    """The published target's profiles.yml, under $C360_DATA_DIR/published_profile."""
    return _write_profile(settings.data_dir / "published_profile", published_profile(str(settings.published_path)))


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
    """The parse cache in the project's target dir, written by `ensure_manifest` and read by the in-process parse
    (`in_process.parsed_manifest`)."""
    return project_target_dir(project) / "partial_parse.msgpack"


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
    """Parse the dbt project when its manifest is missing or older than any model, macro, seed or YAML file."""
    project = dbt_project()
    return parse_when_stale(
        Path(project.manifest_path),
        project_target_dir(project),
        lambda: dbt_cli(project, settings),
        project.target_path,
    )


def parse_when_stale(
    artifact: Path, lock_dir: Path, cli: Callable[[], WarehouseDbtCli], target_path: str | Path, *args: str
) -> Path:
    """`dbt parse` (with `cli()`, into `target_path`) when `artifact`, which that parse writes, is missing or older
    than any dbt input file. Under an exclusive lock in `lock_dir`: processes that start together (a test session's
    workers, `dagster dev`'s code server and a run's worker, a CLI query and the dashboard) parse once, the others
    wait for it instead of writing the same target dir at once and reading a half-written artifact."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    with (lock_dir / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if artifact_is_stale(artifact):
            cli().cli(["--quiet", "parse", *args], target_path=target_path).wait()
    return artifact


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
