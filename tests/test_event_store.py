"""The CLI's Dagster instance: the pooled SQLite event log keeps every event where Dagster's own storage (and so
`make ui`) reads it, and dagster.yaml is written once, upgraded from the old default, never overwritten if edited."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from orchestration.config import Settings
from orchestration.event_store import PooledSqliteEventLogStorage
from orchestration.instance_config import earlier_defaults, instance_yaml
from orchestration.runner import prepare_instance


@dg.asset
def numbers() -> int:
    return 1


@dg.asset_check(asset=numbers, blocking=True)
def numbers_positive(numbers: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=numbers > 0)


def _settings(tmp_path: Path) -> Settings:
    return Settings.from_env({"C360_DATA_DIR": str(tmp_path)})


def test_a_run_is_stored_and_read_back_by_dagsters_own_sqlite_storage(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    instance = prepare_instance(settings)
    assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
    result = dg.materialize([numbers, numbers_positive], instance=instance)
    assert result.success
    written = len(instance.all_logs(result.run_id))
    instance.dispose()

    plain_home = tmp_path / "plain_home"  # what a stock Dagster (no project code) reads from the same files
    plain_home.mkdir()
    (plain_home / "dagster.yaml").write_text(
        "event_log_storage:\n  module: dagster._core.storage.event_log\n  class: SqliteEventLogStorage\n"
        f"  config:\n    base_dir: {settings.dagster_home / 'history' / 'runs'}\n"
    )
    with dg.DagsterInstance.from_config(str(plain_home)) as plain:
        records = plain.all_logs(result.run_id)
        assert len(records) == written
        assert any(r.dagster_event and r.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION" for r in records)
        assert plain.get_latest_materialization_event(dg.AssetKey("numbers")) is not None


def test_dagster_yaml_upgraded_from_an_earlier_default_but_an_edited_one_is_kept(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    config = settings.dagster_home / "dagster.yaml"
    config.parent.mkdir(parents=True)
    for earlier in earlier_defaults(settings.dagster_home):
        config.write_text(earlier)
        with prepare_instance(settings) as instance:
            assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
            assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
        assert config.read_text() == instance_yaml(settings.dagster_home)

    edited = earlier_defaults(settings.dagster_home)[0] + "run_monitoring:\n  enabled: false\n"
    config.write_text(edited)
    prepare_instance(settings).dispose()
    assert config.read_text() == edited
