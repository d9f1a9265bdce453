"""The load ledger (`audit.loads`): one row per raw table per extract, the history volume checks compare against."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

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
    primary key (load_id, table_name)
)
"""


def record_load(
    warehouse_path: Path, source: str, table: str, load_id: str, rows_extracted: int, loaded_at: datetime
) -> int:
    """Record one table's load; `rows_loaded` is what raw now holds under this load id. Returns it."""
    with duckdb.connect(str(warehouse_path)) as con:
        con.execute(DDL)
        rows_loaded = con.execute(f'select count(*) from raw."{table}" where _load_id = ?', [load_id]).fetchall()[0][0]
        con.execute(
            f"insert or replace into {LEDGER} values (?, ?, ?, ?, ?, ?)",
            [load_id, source, table, rows_extracted, rows_loaded, loaded_at],
        )
    return rows_loaded


def recent_load_rows(con: duckdb.DuckDBPyConnection, table: str, before_load_id: str, limit: int = 7) -> list[int]:
    """Rows extracted by the table's previous loads (newest first), the baseline for the volume band."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'audit' and table_name = 'loads'"
    ).fetchall()[0][0]
    if not exists:
        return []
    return [
        row[0]
        for row in con.execute(
            f"select rows_extracted from {LEDGER} where table_name = ? and load_id < ? order by load_id desc limit ?",
            [table, before_load_id, limit],
        ).fetchall()
    ]
