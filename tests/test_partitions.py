"""The daily job is partitioned by as-of date: a partition per day from C360_PARTITION_START to today in the
schedule's timezone; a run of a partition is as of that day; a day outside is refused in one line before any run."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from c360_cli.main import main
from orchestration.as_of import AS_OF_TAG
from orchestration.config import Settings, SettingsError
from orchestration.definitions import build_definitions
from orchestration.partitions import partition_key
from orchestration.schedules import DAILY_JOB

#: UTC+14: its today is UTC's tomorrow for ten hours of every day, so "today" must be the schedule's timezone's.
AHEAD = "Pacific/Kiritimati"


def _settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"C360_DATA_DIR": str(tmp_path / "data"), **env})


def test_a_partition_per_day_from_the_start_setting_to_today_in_the_schedules_timezone(tmp_path: Path) -> None:
    settings = _settings(tmp_path, C360_PARTITION_START="2024-02-27", C360_SCHEDULE_TIMEZONE=AHEAD)
    job = build_definitions(settings).resolve_job_def(DAILY_JOB)
    keys = job.partitions_def.get_partition_keys()
    today = datetime.now(ZoneInfo(AHEAD)).date()
    assert keys[:3] == ["2024-02-27", "2024-02-28", "2024-02-29"] and keys[-1] == today.isoformat()
    assert len(keys) == (today - date(2024, 2, 27)).days + 1
    assert job.get_tags_for_partition_key("2024-02-29", None)[AS_OF_TAG] == "2024-02-29"


def test_a_day_outside_the_partitions_is_refused_with_the_setting_and_the_fix(tmp_path: Path) -> None:
    settings = _settings(tmp_path)  # default start 2015-01-01, UTC
    assert partition_key(settings, date(2015, 1, 1)) == "2015-01-01"
    with pytest.raises(
        SettingsError, match=r"^as-of date 2014-12-31 is before C360_PARTITION_START=2015-01-01, .*: set it earlier$"
    ):
        partition_key(settings, date(2014, 12, 31))
    with pytest.raises(
        SettingsError, match=r"^as-of date 9999-01-01 is after today \(.* in C360_SCHEDULE_TIMEZONE=UTC\)"
    ):
        partition_key(settings, date(9999, 1, 1))
    with pytest.raises(SettingsError, match=r"^C360_PARTITION_START='2015-13-01' is not a date YYYY-MM-DD$"):
        _settings(tmp_path, C360_PARTITION_START="2015-13-01")


def test_c360_run_refuses_such_a_day_in_one_line_before_starting_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("C360_DATA_DIR", str(tmp_path / "data"))
    assert main(["run", "--as-of", "2014-12-31"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and "before C360_PARTITION_START=2015-01-01" in err, err
    assert not (tmp_path / "data").exists()  # no instance, no sweep, no run
