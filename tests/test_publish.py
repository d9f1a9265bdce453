"""Atomic publish of the DuckDB marts file: readers never see a mix or an error; rollback is one step."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.publish.publisher import (
    PUBLISH_LOG,
    RollbackError,
    publish,
    published_tables,
    rollback,
    storage_format,
)
from tests.conftest import file_digest

TABLES = [("marts", "mart_a"), ("marts", "mart_b")]


def make_warehouse(path: Path, marker: str, rows: int) -> Path:
    """A build warehouse whose every table carries `marker`, with a row count that identifies the run."""
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        for _, table in TABLES:
            con.execute(f"create table marts.{table} as select '{marker}' as run_marker, range as n from range({rows})")
    return path


def test_publish_writes_all_tables_with_log_in_portable_format(tmp_path: Path) -> None:
    live = tmp_path / "published" / "marts.duckdb"
    result = publish(make_warehouse(tmp_path / "w.duckdb", "run-1", 7), live, TABLES, "run-1", {"job": "t"})
    assert result.tables == {"mart_a": 7, "mart_b": 7}
    assert published_tables(live) == {"mart_a": 7, "mart_b": 7, PUBLISH_LOG: 1}
    assert storage_format(live) == 64
    with duckdb.connect(str(live), read_only=True) as con:
        run_id, tables, details = con.execute(f"select run_id, tables, details from {PUBLISH_LOG}").fetchall()[0]
    assert (run_id, json.loads(tables), json.loads(details)) == ("run-1", {"mart_a": 7, "mart_b": 7}, {"job": "t"})
    assert not list(live.parent.glob(".*tmp")), "no staging file left behind"


def test_keeps_the_newest_versions_and_rollback_restores_them_one_step_at_a_time(tmp_path: Path) -> None:
    live = tmp_path / "published" / "marts.duckdb"
    digests = []
    for i in range(1, 6):
        publish(make_warehouse(tmp_path / "w.duckdb", f"run-{i}", i), live, TABLES, f"run-{i}", {}, keep=3)
        digests.append(file_digest(live))
    assert len(list((live.parent / "versions").glob("*.duckdb"))) == 3  # runs 2, 3, 4

    for expected in (4, 3, 2):
        rollback(live)
        assert file_digest(live) == digests[expected - 1]
        with duckdb.connect(str(live), read_only=True) as con:
            assert con.execute(f"select run_id from {PUBLISH_LOG}").fetchall() == [(f"run-{expected}",)]
    with pytest.raises(RollbackError, match="no previous version"):
        rollback(live)
    assert file_digest(live) == digests[1]  # a refused rollback changes nothing
    assert len(list((live.parent / "rolled_back").glob("*.duckdb"))) == 3  # displaced files are kept, not lost


READER = textwrap.dedent(
    """
    import json, sys, time, duckdb
    path, stop_file, out = sys.argv[1], sys.argv[2], sys.argv[3]
    seen, errors, reads = set(), [], 0
    from pathlib import Path
    while not Path(stop_file).exists():
        try:
            with duckdb.connect(path, read_only=True) as con:
                (run_id,), = con.execute("select run_id from _publish_log").fetchall()
                markers = {r[0] for t in ("mart_a", "mart_b")
                           for r in con.execute(f"select distinct run_marker from {t}").fetchall()}
                counts = {con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in ("mart_a", "mart_b")}
            reads += 1
            seen.add(run_id)
            if markers != {run_id} or len(counts) != 1:
                errors.append(f"mixed read: log={run_id} markers={sorted(markers)} counts={sorted(counts)}")
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    Path(out).write_text(json.dumps({"reads": reads, "runs_seen": sorted(seen), "errors": errors[:20]}))
    """
)


def test_reader_process_never_errors_nor_sees_two_runs_during_refreshes(tmp_path: Path) -> None:
    live = tmp_path / "published" / "marts.duckdb"
    publish(make_warehouse(tmp_path / "w0.duckdb", "run-0", 10), live, TABLES, "run-0", {})
    stop, out = tmp_path / "stop", tmp_path / "reader.json"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(live), str(stop), str(out)])
    try:
        time.sleep(1.0)  # let the reader get going on run-0
        for i in range(1, 9):
            warehouse = make_warehouse(tmp_path / f"w{i}.duckdb", f"run-{i}", 10 + i)
            publish(warehouse, live, TABLES, f"run-{i}", {})
            time.sleep(0.2)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    report = json.loads(out.read_text())
    assert report["errors"] == []
    assert report["reads"] > 20
    assert len(report["runs_seen"]) >= 3  # it really read across refreshes
