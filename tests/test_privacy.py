"""BI access and retention (issue 14): what BI can reach, who can read the data dir, and what is kept how long."""

from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dlt.common.runtime import anon_tracker

from orchestration.config import Settings
from orchestration.data_dir import enforce_permissions
from orchestration.extract import assets as extract_assets
from orchestration.extract.landing_files import DeliveredFile, delivered_files, record_files
from orchestration.extract.ledger import DDL as LEDGER_DDL
from orchestration.extract.quarantine import DDL as QUARANTINE_DDL
from orchestration.publish.assets import marts_to_publish
from orchestration.publish.publisher import PUBLISH_LOG, publish, rollback
from orchestration.publish.retention import (
    prune_dbt_run_dirs,
    prune_landing,
    prune_published_copies,
    prune_quarantine,
)
from orchestration.transform.project import dbt_project
from orchestration.warehouse import connect_published, rewrite_file
from tests.conftest import Baseline
from tests.data_dir_modes import assert_private_except_published, mode

README = Path(__file__).resolve().parent.parent / "README.md"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
TABLES = [("marts", "mart_a")]


def _warehouse(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create table marts.mart_a as select range as n from range(3)")
        con.execute("create schema raw; create table raw.crm_customers as select 'ann@example.org' as email")
    return path


def _settings(data_dir: Path, **env: str) -> Settings:
    return Settings.from_env({"C360_DATA_DIR": str(data_dir), **env})


# --- BI access --------------------------------------------------------------------------------------------------


def _documented_connection(path: Path) -> duckdb.DuckDBPyConnection:
    """Exactly the README's Python recipe."""
    return duckdb.connect(str(path), read_only=True, config={"enable_external_access": False})


def test_the_documented_connection_cannot_reach_the_warehouse_nor_host_files(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "data")
    settings.data_dir.mkdir()
    warehouse = _warehouse(settings.warehouse_path)
    publish(warehouse, settings.published_path, TABLES, "run-1", {})
    target = tmp_path / "stolen.csv"
    attempts = {
        "attach the warehouse": f"attach '{warehouse}' as w",
        "read a host file": "select * from read_csv('/etc/passwd')",
        "write a host file": f"copy (select 1) to '{target}'",
        "load an extension": "load httpfs",
        "switch external access back on": "set enable_external_access = true",
    }
    for open_it in (_documented_connection, connect_published):
        with open_it(settings.published_path) as c:
            assert c.execute("select count(*) from mart_a").fetchall() == [(3,)]  # it still reads the marts
            for what, sql in attempts.items():
                with pytest.raises(duckdb.Error):
                    c.execute(sql)
                    pytest.fail(f"{what} succeeded")
            with pytest.raises(duckdb.Error):
                c.execute("create table x as select 1")  # read-only
    assert not target.exists()


def test_dlt_reports_nothing_to_dlthub_once_the_extract_is_defined(tmp_path: Path) -> None:
    """dlt posts every pipeline run to its telemetry endpoint unless configured off where `c360` cannot rely on it
    (the working directory's .dlt, ~/.dlt, the environment); its tracker starts with the first pipeline."""
    extract_assets.definitions(_settings(tmp_path / "data"))
    assert anon_tracker._ANON_TRACKER_ENDPOINT is None  # dlt's own switch: no endpoint, no request


def test_the_readme_documents_these_settings_for_every_bi_tool() -> None:
    privacy = README.read_text().split("## Privacy", 1)[1].split("\n## ", 1)[0]
    for setting in (
        'read_only=True, config={"enable_external_access": False}',  # the line the test above runs
        "`duckdb.read_only=true` and `enable_external_access=false`",  # JDBC: DBeaver
        '{"connect_args": {"read_only": true, "config": {"enable_external_access": "false"}}}',  # duckdb-engine
        "C360_LANDING_RETENTION_DAYS",
        "C360_QUARANTINE_RETENTION_DAYS",
        "C360_PUBLISH_MAX_AGE_DAYS",
    ):
        assert setting in privacy


def test_publish_and_rollback_set_modes_bi_can_read_and_copies_it_cannot(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "data")
    settings.data_dir.mkdir()
    warehouse = _warehouse(settings.warehouse_path)
    live = settings.published_path
    for run in ("run-1", "run-2", "run-3"):
        publish(warehouse, live, TABLES, run, {})
    assert (mode(live.parent), mode(live)) == (0o755, 0o644)
    versions = sorted((live.parent / "versions").iterdir())
    assert mode(live.parent / "versions") == 0o700 and [mode(v) for v in versions] == [0o600, 0o600]
    rollback(live)
    assert mode(live) == 0o644
    displaced = list((live.parent / "rolled_back").iterdir())
    assert mode(live.parent / "rolled_back") == 0o700 and [mode(d) for d in displaced] == [0o600]


def test_enforce_permissions_makes_all_but_published_private(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "data", C360_SOURCE="files")
    for name in ("landing/files/crm/contacts.csv", "reports/r.txt", "dagster_home/storage/x.db", "warehouse.duckdb"):
        path = settings.data_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("pii")
    settings.published_path.parent.mkdir()
    settings.published_path.write_text("marts")
    (settings.published_path.parent / "versions").mkdir()
    (settings.published_path.parent / "versions" / "marts.1.duckdb").write_text("old marts")
    for path in settings.data_dir.rglob("*"):
        os.chmod(path, 0o777 if path.is_dir() else 0o666)
    os.chmod(settings.data_dir, 0o777)

    result = enforce_permissions(settings)

    assert result.changed > 0 and result.not_owned == []
    assert mode(settings.data_dir) == 0o711  # others may pass through to published/, not list or read
    assert_private_except_published(settings)


@pytest.mark.slow
def test_after_a_run_only_published_is_readable_by_others_and_retention_reported(xs_baseline: Baseline) -> None:
    settings = xs_baseline.settings
    assert mode(settings.data_dir) == 0o711
    assert_private_except_published(settings)
    event = xs_baseline.instance.get_latest_materialization_event(dg.AssetKey(["published", "retention"]))
    assert event is not None
    metadata = event.asset_materialization.metadata
    assert {k: metadata[k].value for k in ("landing_files_deleted", "quarantine_rows_deleted")} == {
        "landing_files_deleted": 0,
        "quarantine_rows_deleted": 0,
    }


@pytest.mark.slow
def test_the_published_file_holds_marts_only_and_no_sensitive_column(xs_baseline: Baseline) -> None:
    manifest = json.loads(Path(dbt_project().manifest_path).read_text())
    marts = marts_to_publish(Path(dbt_project().manifest_path))
    sensitive = {
        column
        for node in [*manifest["nodes"].values(), *manifest["sources"].values()]
        for column, spec in node.get("columns", {}).items()
        if spec.get("meta", {}).get("sensitive") or spec.get("config", {}).get("meta", {}).get("sensitive")
    }
    assert sensitive >= {"email", "phone", "first_name", "last_name"}
    published = {n["name"]: n for n in manifest["nodes"].values() if n["name"] in marts}
    assert all(n["schema"] == "marts" and n["resource_type"] == "model" for n in published.values())
    with connect_published(xs_baseline.settings.published_path) as con:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        columns = {r[0] for r in con.execute("select column_name from information_schema.columns").fetchall()}
    assert tables == set(marts) | {PUBLISH_LOG}  # nothing from raw, staging, intermediate or audit
    assert columns & sensitive == set()


# --- retention --------------------------------------------------------------------------------------------------


def _age(path: Path, days: float) -> None:
    when = (NOW - timedelta(days=days)).timestamp()
    os.utime(path, (when, when))


def test_published_copies_older_than_the_limit_go_and_nothing_else(tmp_path: Path) -> None:
    live = tmp_path / "published" / "marts.duckdb"
    ages = {"versions/marts.a.duckdb": 31, "versions/marts.b.duckdb": 29, "rolled_back/marts.c.duckdb": 45}
    for name, days in {"marts.duckdb": 400, **ages}.items():
        path = live.parent / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
        _age(path, days)
    assert prune_published_copies(live, None, NOW) == []
    assert sorted(prune_published_copies(live, 30, NOW)) == ["rolled_back/marts.c.duckdb", "versions/marts.a.duckdb"]
    assert live.exists() and (live.parent / "versions/marts.b.duckdb").exists()  # the live file is never touched


def test_dbt_run_dirs_older_than_the_limit_go_and_the_projects_artifacts_stay(tmp_path: Path) -> None:
    """Each dbt call of a run writes its own target dir (~12 MB at XS): a daily schedule would fill the disk."""
    target = tmp_path / "target"
    ages = {"dbt_warehouse-1a2b3c4-5d6e7f8": 15, "dbt_warehouse-aaaaaaa-bbbbbbb": 13, "compiled": 400}
    for name, days in ages.items():
        (target / name).mkdir(parents=True)
        (target / name / "run_results.json").write_text("{}")
        _age(target / name, days)
    (target / "manifest.json").write_text("{}")
    _age(target / "manifest.json", 400)
    assert prune_dbt_run_dirs(target, None, NOW) == []
    assert prune_dbt_run_dirs(target, 14, NOW) == ["dbt_warehouse-1a2b3c4-5d6e7f8"]
    assert sorted(p.name for p in target.iterdir()) == ["compiled", "dbt_warehouse-aaaaaaa-bbbbbbb", "manifest.json"]


def test_old_quarantine_rows_are_deleted_and_their_bytes_leave_the_file(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    old = [f"old-{secrets.token_hex(12)}@example.org" for _ in range(3)]
    young = [f"young-{secrets.token_hex(12)}@example.org" for _ in range(3)]
    with duckdb.connect(str(warehouse)) as con:
        con.execute(QUARANTINE_DDL)
        con.execute("create schema marts; create table marts.keep as select range as n from range(1000)")
        rows = [(e, NOW - timedelta(days=91)) for e in old] + [(e, NOW - timedelta(days=89)) for e in young]
        con.executemany(
            "insert into audit.quarantine values (?, 'files', 'crm_customers', 'crm/contacts.csv', 2, 'email', "
            "'required value missing', ?, 'load-1', ?)",
            [[f"q-{i}", json.dumps({"Email": e}), at] for i, (e, at) in enumerate(rows)],
        )
        con.execute("checkpoint")
    before = warehouse.read_bytes()
    assert all(e.encode() in before for e in old + young)  # the grep can see them: the check below means something

    assert prune_quarantine(warehouse, None, NOW) == (0, 0)
    deleted, _ = prune_quarantine(warehouse, 90, NOW)

    assert deleted == 3
    with duckdb.connect(str(warehouse), read_only=True) as con:
        left = {json.loads(r[0])["Email"] for r in con.execute("select record from audit.quarantine").fetchall()}
        assert con.execute("select count(*) from marts.keep").fetchall() == [(1000,)]
    assert left == set(young)
    after = warehouse.read_bytes()
    assert [e for e in old if e.encode() in after] == []  # gone from the file, not only from the table
    assert all(e.encode() in after for e in young)
    assert not warehouse.with_name("warehouse.duckdb.wal").exists()


def _record_files(warehouse: Path, load_id: str, files: list[DeliveredFile]) -> None:
    with duckdb.connect(str(warehouse)) as con:
        record_files(con, "crm_orders", load_id, files)


def _ledger(warehouse: Path, loads: dict[str, datetime | None]) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute(LEDGER_DDL)
        for load_id, published_at in loads.items():
            con.execute(
                "insert into audit.loads (load_id, source, table_name, rows_extracted, rows_loaded, loaded_at, "
                "published_at) values (?, 'crm', 'crm_orders', 1, 1, ?, ?)",
                [load_id, published_at or NOW, published_at],
            )


def test_landing_files_go_only_when_a_published_load_read_them_long_enough_ago(tmp_path: Path) -> None:
    landing, warehouse = tmp_path / "landing" / "files", tmp_path / "warehouse.duckdb"
    (landing / "crm").mkdir(parents=True)

    def deliver(*names: str) -> None:
        for name in names:
            (landing / "crm" / name).write_text(f"Id,Created at\n{name},2026-01-01 00:00:00\n")

    _ledger(warehouse, {"old": NOW - timedelta(days=31), "young": NOW - timedelta(days=29), "unpublished": None})
    deliver("orders_01.csv", "orders_02.csv", "orders_03.csv", "orders_09.csv")
    _record_files(warehouse, "old", delivered_files(landing, "crm_orders"))
    # orders_02 changed after the old load read it; its new version was read by the unpublished load
    deliver("orders_02.csv")
    os.utime(landing / "crm" / "orders_02.csv", ns=(1, 1))
    deliver("orders_04.csv", "orders_05.csv")
    files = {f.path: f for f in delivered_files(landing, "crm_orders")}
    _record_files(warehouse, "young", [files["crm/orders_04.csv"]])
    _record_files(warehouse, "unpublished", [files["crm/orders_02.csv"], files["crm/orders_05.csv"]])
    deliver("orders_06.csv")  # never read by any load

    assert prune_landing(warehouse, landing, None, NOW) == []
    deleted = prune_landing(warehouse, landing, 30, NOW)

    # 01 and 03: read by a load published 31 days ago, unchanged since. 09: the same, but the table's newest file.
    assert deleted == ["crm/orders_01.csv", "crm/orders_03.csv"]
    left = sorted(p.name for p in (landing / "crm").iterdir())
    assert left == ["orders_02.csv", "orders_04.csv", "orders_05.csv", "orders_06.csv", "orders_09.csv"]
    assert prune_landing(warehouse, landing, 30, NOW) == []  # idempotent


def test_an_unpublished_delivery_is_never_deleted_however_old(tmp_path: Path) -> None:
    landing, warehouse = tmp_path / "landing" / "files", tmp_path / "warehouse.duckdb"
    (landing / "crm").mkdir(parents=True)
    for name in ("orders_01.csv", "orders_02.csv"):
        (landing / "crm" / name).write_text("Id\n1\n")
        _age(landing / "crm" / name, 3650)
    _ledger(warehouse, {"rejected": None})
    with duckdb.connect(str(warehouse)) as con:  # a load rejected by its gate, even discarded, is not published
        con.execute("update audit.loads set discarded_at = ?", [NOW - timedelta(days=3000)])
    _record_files(warehouse, "rejected", delivered_files(landing, "crm_orders"))
    assert prune_landing(warehouse, landing, 0, NOW + timedelta(days=3650)) == []
    assert len(list((landing / "crm").iterdir())) == 2


# A real files run recording what it read, and landing retention on it afterwards: in tests/test_files_source.py
# (test_full_pipeline_on_files_...), on that test's run, so the suite runs the files pipeline once.


def _catalog(path: Path) -> dict[str, object]:
    """Every object of a DuckDB file and a fingerprint of every table's and view's rows."""
    with duckdb.connect(str(path), read_only=True) as con:
        objects = {
            "tables": "select schema_name, table_name, column_count from duckdb_tables()",
            "views": "select schema_name, view_name, sql from duckdb_views() where not internal",
            "columns": "select schema_name, table_name, column_name, data_type, is_nullable from duckdb_columns()",
            "constraints": "select schema_name, table_name, constraint_type, constraint_text from duckdb_constraints()",
            "indexes": "select schema_name, table_name, index_name from duckdb_indexes()",
            "sequences": "select schema_name, sequence_name from duckdb_sequences()",
            "macros": "select schema_name, function_name from duckdb_functions() where not internal",
        }
        catalog: dict[str, object] = {k: sorted(con.execute(q).fetchall()) for k, q in objects.items()}
        relations = [(s, t) for s, t, _ in catalog["tables"]] + [(s, v) for s, v, _ in catalog["views"]]
        catalog["rows"] = {
            f"{s}.{t}": con.execute(f'select count(*), bit_xor(hash(x)) from "{s}"."{t}" as x').fetchall()
            for s, t in relations
        }
    return catalog


@pytest.mark.slow
def test_rewriting_a_real_warehouse_keeps_every_object_and_row(tmp_path: Path, xs_baseline: Baseline) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_bytes(xs_baseline.settings.warehouse_path.read_bytes())
    before = _catalog(warehouse)
    rewrite_file(warehouse)
    assert _catalog(warehouse) == before  # dbt's views still bind, dlt's tables, the ledger's keys are all there
    assert mode(warehouse) == 0o600


# A rerun of the clean run's landing folder (the same marts, raw merged on the keys, the first run's file kept for
# rollback, an expired quarantine row deleted by the run's retention step, the data dir private): proved by the
# recovery run that ends tests/test_crash_recovery.py, which is that rerun (one full run for both).
