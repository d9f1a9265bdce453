"""Settings are validated when read: an unknown value fails at start-up with one line naming the valid ones."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from c360_cli.main import main
from orchestration.config import Settings, SettingsError
from orchestration.extract.ledger import DDL as LEDGER_DDL
from orchestration.extract.ledger import mark_published
from orchestration.transform.assets import reconciliation_window, reprocess_window


def test_defaults_are_valid() -> None:
    settings = Settings.from_env({})
    assert (settings.source, settings.scale, settings.seed) == ("synthetic", "S", 7)
    assert settings.duckdb_threads is None and settings.duckdb_memory_limit == ""
    assert settings.dbt_threads == 2
    retention = (settings.landing_retention_days, settings.quarantine_retention_days, settings.publish_max_age_days)
    assert retention == (30, 90, 30)


def test_retention_none_keeps_forever() -> None:
    settings = Settings.from_env({"C360_LANDING_RETENTION_DAYS": "none", "C360_PUBLISH_MAX_AGE_DAYS": "None"})
    assert (settings.landing_retention_days, settings.publish_max_age_days) == (None, None)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"C360_SOURCE": "foo"}, "C360_SOURCE='foo' is not one of: files, postgres, synthetic"),
        ({"C360_SOURCE": "Files"}, "C360_SOURCE='Files' is not one of: files, postgres, synthetic"),
        ({"C360_SCALE": "XXL"}, "C360_SCALE='XXL' is not one of: XS, S, M, L"),
        ({"C360_SEED": "seven"}, "C360_SEED='seven' is not an integer >= 0"),
        ({"C360_PUBLISH_KEEP": "-1"}, "C360_PUBLISH_KEEP='-1' is not an integer >= 0"),
        ({"C360_CLV_MARGIN": "high"}, "C360_CLV_MARGIN='high' is not a number >= 0"),
        ({"C360_DUCKDB_THREADS": "0"}, "C360_DUCKDB_THREADS='0' is not an integer >= 1"),
        ({"C360_DBT_THREADS": "0"}, "C360_DBT_THREADS='0' is not an integer >= 1"),
        ({"C360_LANDING_RETENTION_DAYS": "-1"}, "C360_LANDING_RETENTION_DAYS='-1' is not an integer >= 0 or none"),
        ({"C360_PUBLISH_MAX_AGE_DAYS": "9d"}, "C360_PUBLISH_MAX_AGE_DAYS='9d' is not an integer >= 0 or none"),
        (
            {"C360_PUBLISH_FILE_KEYS": "off"},
            "C360_PUBLISH_FILE_KEYS='off' is not one of: checked, primary, enforced, none",
        ),
        ({"C360_DBT_TEST_SCOPE": "all"}, "C360_DBT_TEST_SCOPE='all' is not one of: window, full"),
        (
            {"C360_DBT_FULL_TEST_WEEKDAY": "Sun"},
            "C360_DBT_FULL_TEST_WEEKDAY='sun' is not one of: monday, tuesday, wednesday, thursday, friday, saturday, "
            "sunday, none",
        ),
    ],
)
def test_an_invalid_value_raises_one_line_naming_variable_value_and_valid_values(env: dict, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)
    assert str(raised.value) == message


def test_the_cli_prints_the_one_line_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("C360_SOURCE", "foo")
    assert main(["publish", "status"]) == 2
    captured = capsys.readouterr()
    assert captured.err == "c360: C360_SOURCE='foo' is not one of: files, postgres, synthetic\n"
    assert captured.out == ""


@pytest.mark.parametrize(
    ("env", "as_of", "window"),
    [
        ({}, date(2026, 11, 30), "2026-11-30T06:00:00+00:00"),  # a Monday: the run's window
        ({}, date(2026, 11, 29), ""),  # the default weekday, Sunday: all history
        ({"C360_DBT_FULL_TEST_WEEKDAY": "Monday"}, date(2026, 11, 30), ""),
        ({"C360_DBT_FULL_TEST_WEEKDAY": "none"}, date(2026, 11, 29), "2026-11-30T06:00:00+00:00"),
        ({"C360_DBT_TEST_SCOPE": "full", "C360_DBT_FULL_TEST_WEEKDAY": "none"}, date(2026, 11, 30), ""),
    ],
)
def test_reconciliation_tests_check_the_window_except_weekly_or_when_full(env: dict, as_of: date, window: str) -> None:
    assert reconciliation_window(Settings.from_env(env), as_of, "2026-11-30T06:00:00+00:00") == window


def test_reconciliation_tests_check_all_history_until_a_first_publish() -> None:
    """Before any publish the window holds every row: the tests check all history, which costs less than scoping."""
    settings = Settings.from_env({"C360_DBT_FULL_TEST_WEEKDAY": "none"})
    since = "2026-11-30T06:00:00+00:00"
    assert reconciliation_window(settings, date(2026, 11, 30), since, published_before=False) == ""
    assert reconciliation_window(settings, date(2026, 11, 30), since, published_before=True) == since


def test_the_dbt_step_reads_the_window_and_any_publish_from_the_ledger(tmp_path: Path) -> None:
    """What the dbt step reads from the ledger: the earliest unpublished load, and whether any load was published."""
    settings = Settings.from_env({"C360_DATA_DIR": str(tmp_path)})
    assert reprocess_window(settings) == ("", False)  # no warehouse yet
    loaded_at = datetime(2026, 11, 30, 6, tzinfo=UTC)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(LEDGER_DDL)
        con.execute(
            "insert into audit.loads (load_id, source, table_name, rows_extracted, rows_loaded, loaded_at, "
            "rows_quarantined) values ('L1', 'crm', 'crm_orders', 1, 1, ?, 0)",
            [loaded_at],
        )
    since, published_before = reprocess_window(settings)
    assert (datetime.fromisoformat(since), published_before) == (loaded_at, False)
    mark_published(settings.warehouse_path, loaded_at)
    assert reprocess_window(settings) == ("", True)
