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

from orchestration.publish import publisher
from orchestration.publish.mart_docs import ForeignKey, TableDoc
from orchestration.publish.publisher import (
    PUBLISH_LOG,
    KeyViolation,
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


def _sized_warehouse(path: Path, rows: dict[str, int]) -> list[tuple[str, str]]:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        for table, count in rows.items():
            con.execute(f"create table marts.{table} as select range as id, range % 7 as n from range({count})")
    return [("marts", table) for table in rows]


def test_tables_are_copied_in_lanes_of_equal_size_and_a_broken_key_in_any_lane_refuses_the_publish(
    tmp_path: Path,
) -> None:
    """Two DuckDB threads: two lanes, the largest table alone in one and the rest in the other, each table once with
    all its rows. A repeated key in the second lane's table refuses the whole publish and leaves no file."""
    rows = {"big": 60_000, "mid": 30_000, "small": 20_000, "tiny": 5_000}
    warehouse = tmp_path / "w.duckdb"
    tables = _sized_warehouse(warehouse, rows)
    with duckdb.connect() as con:
        con.execute(f"attach '{warehouse}' as warehouse (read_only)")
        assert publisher._lanes(con, dict((t, s) for s, t in tables), 2) == [["big"], ["mid", "small", "tiny"]]
        assert publisher._lanes(con, dict((t, s) for s, t in tables), 8) == [["big"], ["mid"], ["small"], ["tiny"]]
    assert [publisher._lane_count({"threads": t}) for t in ("1", "2", "16")] == [1, 2, publisher.MAX_LANES]

    live = tmp_path / "published" / "marts.duckdb"
    keyed = {t: TableDoc(name=t, primary_key=("id",)) for t in rows}
    result = publish(warehouse, live, tables, "run-1", {}, config={"threads": "2"}, docs=keyed, declare_keys=False)
    assert result.tables == rows and published_tables(live) == {**rows, PUBLISH_LOG: 1}

    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into marts.small select * from marts.small limit 3")
    staged = list(live.parent.glob(".*.tmp"))
    with pytest.raises(KeyViolation, match=r"marts\.small breaks its primary key \(id\): 3 rows repeat a value"):
        publish(warehouse, live, tables, "run-2", {}, config={"threads": "2"}, docs=keyed, declare_keys=False)
    assert list(live.parent.glob(".*.tmp")) == staged == []
    assert published_tables(live) == {**rows, PUBLISH_LOG: 1}  # the live file is the first run's


def test_foreign_keys_copy_every_table_in_one_lane_referenced_tables_first(tmp_path: Path) -> None:
    """A foreign key needs its table created and filled first: with one declared, the tables are copied in creation
    order in one lane, whatever their sizes."""
    rows = {"a_facts": 60_000, "z_dim": 10}
    warehouse = tmp_path / "w.duckdb"
    tables = _sized_warehouse(warehouse, rows)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update marts.a_facts set n = id % 10")
        con.execute("update marts.z_dim set n = id")
    docs = {
        "a_facts": TableDoc(name="a_facts", primary_key=("id",), foreign_keys=(ForeignKey(("n",), "z_dim", ("n",)),)),
        "z_dim": TableDoc(name="z_dim", primary_key=("n",)),
    }
    live = tmp_path / "published" / "marts.duckdb"
    result = publish(warehouse, live, tables, "run-1", {}, config={"threads": "2"}, docs=docs, declare_keys=True)
    assert list(result.tables) == ["z_dim", "a_facts"] and result.tables == rows
    with duckdb.connect(str(live), read_only=True) as con:
        (references,) = con.execute(
            "select referenced_table from duckdb_constraints() where constraint_type = 'FOREIGN KEY'"
        ).fetchone()
    assert references == "z_dim"


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
