"""The load ledger (`audit.loads`): one row per raw table per extract, and what became of it.

Raw tables merge, so rows a gate rejected stay in raw until someone acts. The ledger is what keeps that safe: a load
counts as judged only once a publish included it (`published_at`). Gates validate every unpublished load (so a
rejected load keeps failing the gate, fail-closed, until it is discarded), and volume baselines use published loads
only (a rejected spike never becomes the norm).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from orchestration.extract.landing_files import forget_versions
from orchestration.warehouse import connect_file

LEDGER = "audit.loads"
DDL = f"""
create schema if not exists audit;
create table if not exists {LEDGER} (
    load_id varchar not null,
    source varchar not null,
    table_name varchar not null,
    rows_extracted bigint not null,
    rows_loaded bigint not null,
    loaded_at timestamptz not null,
    published_at timestamptz,
    discarded_at timestamptz,
    rows_quarantined bigint not null default 0,
    delivery varchar not null default 'snapshot',
    primary key (load_id, table_name)
);
alter table {LEDGER} add column if not exists rows_quarantined bigint default 0;
alter table {LEDGER} add column if not exists delivery varchar default 'snapshot'
"""


class LoadAccountingError(RuntimeError):
    """Rows extracted != rows loaded + rows quarantined: some rows went nowhere, which must never pass silently."""


def record_load(
    con: duckdb.DuckDBPyConnection,
    source: str,
    table: str,
    load_id: str,
    rows_extracted: int,
    loaded_at: datetime,
    rows_quarantined: int = 0,
    delivery: str = "snapshot",
) -> int:
    """Record one table's load; `rows_loaded` is what raw holds under this load id right after it. Returns it.
    `delivery` is `snapshot` (an export) or `delta` (rows changed since a cursor): the gates judge them differently.

    Every extracted row is loaded or quarantined: otherwise the ledger row is still written (for the audit) and
    LoadAccountingError is raised, failing the extract.
    """
    con.execute(DDL)
    rows_loaded = con.execute(f'select count(*) from raw."{table}" where _load_id = ?', [load_id]).fetchall()[0][0]
    con.execute(
        f"insert or replace into {LEDGER} (load_id, source, table_name, rows_extracted, rows_loaded, loaded_at, "
        "rows_quarantined, delivery) values (?, ?, ?, ?, ?, ?, ?, ?)",
        [load_id, source, table, rows_extracted, rows_loaded, loaded_at, rows_quarantined, delivery],
    )
    if rows_extracted != rows_loaded + rows_quarantined:
        raise LoadAccountingError(
            f"raw.{table} load {load_id}: {rows_extracted} rows extracted but {rows_loaded} loaded + "
            f"{rows_quarantined} quarantined"
        )
    return rows_loaded


def _has_ledger(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = 'audit' and table_name = 'loads'"
        ).fetchall()[0][0]
    )


def unpublished_loads(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, int, int, int]]:
    """(load_id, rows_extracted, rows_loaded, rows_quarantined) of the table's loads not yet published nor
    discarded, oldest first."""
    if not _has_ledger(con):
        return []
    return con.execute(
        f"select load_id, rows_extracted, rows_loaded, rows_quarantined from {LEDGER} "
        "where table_name = ? and published_at is null and discarded_at is null order by load_id",
        [table],
    ).fetchall()


def reprocess_loaded_since(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """When the earliest load not yet published nor discarded was loaded (its rows' `_loaded_at`): incremental models
    reprocess the rows loaded since, which are exactly what no publish included yet: this run's loads, a failed
    run's, and a load that committed out of order. None when every load is published (or there is no ledger)."""
    if not _has_ledger(con):
        return None
    return con.execute(
        f"select min(loaded_at) from {LEDGER} where published_at is null and discarded_at is null"
    ).fetchall()[0][0]


def any_load_published(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a publish ever included a load. Until one has, every row in raw came from a load not yet published
    (a discarded load's rows are deleted), so a run's window holds all history."""
    if not _has_ledger(con):
        return False
    return con.execute(f"select count(*) > 0 from {LEDGER} where published_at is not null").fetchall()[0][0]


def unpublished_delivery_kinds(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """How the loads the gate is about to judge were delivered: `snapshot`, `delta` and/or `absent`."""
    if not _has_ledger(con):
        return set()
    kinds = con.execute(
        f"select distinct delivery from {LEDGER} "
        "where table_name = ? and published_at is null and discarded_at is null",
        [table],
    ).fetchall()
    return {k[0] for k in kinds}


def unpublished_deltas_only(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether every load the gate is about to judge is a delta (rows changed since a cursor), not an export."""
    return unpublished_delivery_kinds(con, table) == {"delta"}


def unpublished_absent_only(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether every load the gate is about to judge found the table not delivered (an optional table without a
    file: zero rows, recorded as `absent`)."""
    return unpublished_delivery_kinds(con, table) == {"absent"}


def recent_published_rows(con: duckdb.DuckDBPyConnection, table: str, limit: int = 7) -> list[int]:
    """Rows extracted by the table's most recent published exports: the baseline of the volume band (a delta's
    size says how much changed, not how much a delivery holds, so deltas are left out)."""
    if not _has_ledger(con):
        return []
    return [
        row[0]
        for row in con.execute(
            f"select rows_extracted from {LEDGER} where table_name = ? and published_at is not null "
            "and delivery = 'snapshot' order by load_id desc limit ?",
            [table, limit],
        ).fetchall()
    ]


def mark_published(warehouse_path: Path, published_at: datetime) -> int:
    """Every load judged by this run's gates reached BI: record it. Returns how many ledger rows changed."""
    with connect_file(warehouse_path) as con:
        con.execute(DDL)
        return con.execute(
            f"update {LEDGER} set published_at = ? where published_at is null and discarded_at is null",
            [published_at],
        ).fetchall()[0][0]


def discard_load(warehouse_path: Path, load_id: str, discarded_at: datetime) -> dict[str, int]:
    """Delete a rejected load's rows from raw and mark it discarded, so the next run's gates judge only new data.

    Rows the load overwrote (same key, earlier load) are not restored here: the next `files` extract reads the
    tables' files whole again (their versions are forgotten), and a database source's next delivery of those keys
    restores them.
    """
    with connect_file(warehouse_path) as con:
        con.execute(DDL)
        tables = [
            r[0]
            for r in con.execute(
                f"select table_name from {LEDGER} where load_id = ? and published_at is null", [load_id]
            ).fetchall()
        ]
        if not tables:
            raise LookupError(f"load {load_id!r} is unknown or already published; nothing to discard")
        deleted = {}
        for table in tables:
            deleted[table] = con.execute(f'delete from raw."{table}" where _load_id = ?', [load_id]).fetchall()[0][0]
        con.execute(f"update {LEDGER} set discarded_at = ? where load_id = ?", [discarded_at, load_id])
        forget_versions(con, tables)  # the delete may have taken rows an earlier file delivered: read them again
    return deleted
