"""The CLI's Dagster instance: the pooled SQLite event log keeps every event where Dagster's own storage (and so
`make ui`) reads it, and dagster.yaml is written once, upgraded from the old default, never overwritten if edited."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.migration import ASSET_KEY_INDEX_COLS

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


def test_remembered_schema_answers_agree_with_dagsters_and_override_its_members(tmp_path: Path) -> None:
    """The storage remembers a column or completed migration it has seen (event_store.py); its answers are the ones
    Dagster's storage gives on the same files, and the members it overrides still exist in the pinned Dagster (an
    upgrade that renames them would silently stop the saving)."""
    for member in ("_has_asset_key_col_on_connection", "has_secondary_index", "has_table"):
        assert hasattr(SqliteEventLogStorage, member), member
        assert getattr(PooledSqliteEventLogStorage, member) is not getattr(SqliteEventLogStorage, member), member
    instance = prepare_instance(_settings(tmp_path))
    assert dg.materialize([numbers, numbers_positive], instance=instance).success
    ours = instance.event_log_storage
    plain = SqliteEventLogStorage(ours._base_dir)
    for column in ("last_materialization_timestamp", "wipe_timestamp", "no_such_column"):
        assert ours.has_asset_key_col(column) == plain.has_asset_key_col(column), column
        assert ours.has_asset_key_col(column) == plain.has_asset_key_col(column), column  # remembered, same answer
    assert ours.has_asset_key_col("last_materialization_timestamp") and not ours.has_asset_key_col("no_such_column")
    for index in (ASSET_KEY_INDEX_COLS, "no_such_migration"):
        assert ours.has_secondary_index(index) == plain.has_secondary_index(index), index
    assert ours.has_secondary_index(ASSET_KEY_INDEX_COLS)
    plain.dispose()
    instance.dispose()
