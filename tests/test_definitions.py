"""The Dagster code location loads, and its graph (assets, checks, schedule) matches the reviewed snapshot."""

from __future__ import annotations

import fcntl
import inspect
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster_dbt import DbtCliResource
from dagster_dbt.asset_utils import extract_runtime_selection_from_args, get_updated_cli_invocation_params_for_context

from orchestration.as_of import AS_OF_TAG
from orchestration.config import DBT_PROJECT_DIR, Settings
from orchestration.customer_models.in_dbt import run_setting
from orchestration.definitions import build_definitions
from orchestration.extract.raw_contract import RAW_TABLES
from orchestration.quality.suites import suite_modules
from orchestration.schedules import DAILY_JOB
from orchestration.transform.in_process import InProcessDbt, parsed_manifest
from orchestration.transform.project import (
    WarehouseDbtCli,
    dbt_cli,
    dbt_project,
    ensure_manifest,
    project_parse_cache,
)
from orchestration.transform.run_settings import settings_of_this_dbt_call

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.txt"


@pytest.fixture(scope="module")
def defs(tmp_path_factory: pytest.TempPathFactory) -> dg.Definitions:
    settings = Settings.from_env({"C360_DATA_DIR": str(tmp_path_factory.mktemp("defs"))})
    ensure_manifest(settings)
    return build_definitions(settings)


def graph_lines(defs: dg.Definitions) -> list[str]:
    graph = defs.resolve_asset_graph()
    lines = [f"asset {key.to_user_string()}" for key in sorted(graph.get_all_asset_keys())]
    lines += [f"check {key.asset_key.to_user_string()}:{key.name}" for key in sorted(graph.asset_check_keys)]
    lines += [
        f"schedule {s.name} {s.cron_schedule} {s.execution_timezone} -> {s.job_name}" for s in defs.schedules or []
    ]
    lines += [f"sensor {s.name} {s.default_status.value}" for s in defs.sensors or []]
    return lines


def test_asset_graph_matches_snapshot(defs: dg.Definitions) -> None:
    """Regenerate with `C360_UPDATE_SNAPSHOT=1 pytest tests/test_definitions.py` after a deliberate change."""
    current = "\n".join(graph_lines(defs)) + "\n"
    if os.environ.get("C360_UPDATE_SNAPSHOT"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(current)
    assert current == SNAPSHOT.read_text()


def test_publish_is_downstream_of_every_mart_and_raw_table(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    upstream = graph.get(dg.AssetKey(["published", "marts"])).parent_keys
    marts = {k for k in graph.get_all_asset_keys() if k.path[0] == "marts"}
    raw = {dg.AssetKey(["raw", t.name]) for t in RAW_TABLES}
    assert upstream == marts | raw  # raw directly: a table no mart reads yet is still gated before publishing


def test_every_gx_gate_is_blocking(defs: dg.Definitions) -> None:
    checks = {spec.key.name: spec for checks_def in defs.asset_checks or [] for spec in checks_def.check_specs}
    gx_checks = {name: spec for name, spec in checks.items() if name.startswith("gx_")}
    assert set(gx_checks) == {f"gx_{m.SUITE_NAME}" for m in suite_modules()}  # one gate per suite in expectations/
    assert all(spec.blocking for spec in gx_checks.values())


def test_daily_schedule_uses_configured_cron_and_timezone_and_fixes_the_as_of_date(tmp_path: Path) -> None:
    env = {
        "C360_DATA_DIR": str(tmp_path),
        "C360_SCHEDULE_CRON": "30 4 * * *",
        "C360_SCHEDULE_TIMEZONE": "Europe/Berlin",
    }
    defs = build_definitions(Settings.from_env(env))
    (schedule,) = defs.schedules
    assert (schedule.cron_schedule, schedule.execution_timezone, schedule.job_name) == (
        "30 4 * * *",
        "Europe/Berlin",
        DAILY_JOB,
    )
    tick = datetime(2026, 11, 22, 4, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    context = dg.build_schedule_context(scheduled_execution_time=tick, repository_def=defs.get_repository_def())
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == request.tags[AS_OF_TAG] == "2026-11-22"  # the day's partition, as of the day


def test_daily_job_runs_steps_in_one_process(defs: dg.Definitions) -> None:
    """DuckDB allows one read-write process per file; parallel step processes would fight over the lock."""
    assert defs.resolve_job_def(DAILY_JOB).executor_def is dg.in_process_executor


def test_dbt_sources_are_exactly_the_registered_raw_tables(defs: dg.Definitions) -> None:
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    identifiers = {s["identifier"] for s in manifest["sources"].values() if s["schema"] == "raw"}
    # plus the FX reference rates, written by their own asset (orchestration/extract/fx_rates.py), not a dlt source
    assert identifiers == {t.name for t in RAW_TABLES} | {"fx_rates"}


@pytest.mark.slow  # a whole `dagster` CLI process importing the stack (~7 s alone, 12-14 s in the suite); the
# definitions themselves load in-process in this module's other tests, and test_ui_backfill.py starts `dagster dev`
def test_dagster_cli_validates_the_code_location(tmp_path: Path) -> None:
    env = {**os.environ, "C360_DATA_DIR": str(tmp_path), "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "orchestration.definitions"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "All code locations passed validation" in result.stderr + result.stdout


def test_the_dbt_resource_skips_the_version_subprocess_and_the_adapter_with_the_same_answers(tmp_path: Path) -> None:
    """WarehouseDbtCli overrides two private members of dagster-dbt's resource: an upgrade that renames them must fail
    here, not silently bring back a `dbt --version` start-up and a macro parse on every dbt call. Its version is the
    one dagster-dbt's own probe reads from the dbt executable the runs use."""
    for member in ("_cli_version", "_initialize_dbt_core_adapter"):
        assert member in vars(DbtCliResource) and member in vars(WarehouseDbtCli), member
    ours = dbt_cli(dbt_project(), Settings.from_env({"C360_DATA_DIR": str(tmp_path)}))
    probed = DbtCliResource(project_dir=ours.project_dir, dbt_executable=ours.dbt_executable)._cli_version
    assert ours._cli_version == probed and ours._cli_version.major == 1
    assert ours._initialize_dbt_core_adapter(["build"]) is None


def test_dbt_in_this_process_parses_once_and_speaks_like_a_dbt_subprocess(tmp_path: Path) -> None:
    """The daily build runs dbt in the run's process (orchestration/transform/in_process.py): the project is parsed
    once per process whatever the data dir (every data dir parses with the same relative-path profile), and the call
    looks to dagster-dbt like a dbt subprocess: JSON events on stdout, dbt's exit code, an error line when dbt fails.
    It builds on two private helpers of the pinned dagster-dbt (the step's dbt selection): an upgrade that changes
    them must fail here."""
    assert "runtime_selects" in inspect.signature(get_updated_cli_invocation_params_for_context).parameters
    assert extract_runtime_selection_from_args(["build", "--select", "a"]) == (["build"], ["a"], [])
    clis = [dbt_cli(dbt_project(), Settings.from_env({"C360_DATA_DIR": str(tmp_path / name)})) for name in "ab"]
    assert clis[0].profiles_dir != clis[1].profiles_dir
    manifests = [
        parsed_manifest(DBT_PROJECT_DIR, Path(cli.profiles_dir), project_parse_cache(dbt_project())) for cli in clis
    ]
    assert manifests[0] is manifests[1] and "model.c360.dim_customer" in manifests[0].nodes

    def dbt(*args: str) -> InProcessDbt:
        target = str(tmp_path / "target")
        profiles = clis[0].warehouse_profiles_dir
        flags = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", profiles, "--target-path", target]
        return InProcessDbt([*args, *flags, "--log-path", target, "--log-level", "none"], manifests[0], {})

    def call(*args: str) -> tuple[int, list[dict]]:
        process = dbt(*args)
        with process.stdout:
            events = [json.loads(line) for line in process.stdout]
        return process.wait(timeout=120), events

    code, events = call("ls", "--resource-type", "model", "--output", "name")
    assert code == 0
    listed = {event["info"]["msg"] for event in events if event["info"]["name"] == "PrintEvent"}
    assert {"dim_customer", "mart_rfm", "stg_crm__orders"} <= listed
    code, events = call("run-operation", "no_such_macro")
    assert code != 0
    assert any("no_such_macro" in event["info"]["msg"] for event in events if event["info"]["level"] == "error")
    unheard = dbt("ls")
    unheard.stdout.close()  # the reader gave up (its step failed): dbt still ends, and the next call may run
    assert unheard.wait(timeout=120) == 0
    assert call("ls", "--resource-type", "seed")[0] == 0


def test_python_models_read_the_run_settings_of_the_dbt_call_running_in_this_process() -> None:
    """The CLV models (dbt Python models) get their config at parse time, and the parsed manifest is reused: the
    run's settings reach them from the dbt call in this process, else from the vars rendered into their meta. One
    dbt call at a time: a second one while the first runs fails at once."""
    meta = {"run_settings": {"as_of_date": "2026-10-31"}}
    assert run_setting(meta, "as_of_date") == "2026-10-31"
    with settings_of_this_dbt_call({"as_of_date": "2015-02-10"}):
        assert run_setting(meta, "as_of_date") == "2015-02-10"
        with pytest.raises(RuntimeError, match="another dbt call"), settings_of_this_dbt_call({}):
            pass
    assert run_setting(meta, "as_of_date") == "2026-10-31"


def test_ensure_manifest_waits_for_a_parse_in_another_process(tmp_path: Path) -> None:
    """Processes starting together (a test session's workers, `dagster dev`'s code server and a run's worker) parse
    the project once: ensure_manifest holds an exclusive lock while it checks and parses, so a second one waits and
    then finds the manifest fresh. Here the lock is held the way a parsing process holds it."""
    settings = Settings.from_env({"C360_DATA_DIR": str(tmp_path)})
    manifest = ensure_manifest(settings)
    lock_path = manifest.parent / ".parse.lock"
    with lock_path.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        waiter = ThreadPoolExecutor(1).submit(ensure_manifest, settings)
        time.sleep(0.5)
        assert not waiter.done()  # blocked on the lock, not parsing nor reading beside the holder
    assert waiter.result(timeout=60) == manifest
