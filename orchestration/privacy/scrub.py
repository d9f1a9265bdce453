"""Delete every row holding one of a person's values from a DuckDB file or the PostgreSQL serving schema, so that
the bytes are gone too, not just the rows.

Matching is by exact value in any text column (`Subject.values`: ids, emails, devices, click ids, record ids, keyed
pseudonyms), so no table needs to be listed: raw, audit, identity graph, incremental facts, the SCD2 snapshot and
the marts are all covered, and a new table is covered the day it appears. JSON columns holding whole records
(`audit.quarantine.record`) match on the quoted value.

Why rewrite: DuckDB does not erase what DELETE removes; the rows' bytes stay in the file (marked deleted, or in freed
blocks) after CHECKPOINT. The warehouse is rewritten in place (warehouse.rewrite_file). A published file may be open
in a BI tool, so it is never written: a filtered copy is built beside it and swapped in with os.replace (readers keep
the old inode until they reconnect), in the published storage format and with the file's mode. PostgreSQL keeps dead
tuples in the table's pages until VACUUM: tables that lost rows get VACUUM FULL, which writes them anew.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import duckdb
import psycopg2
import pyarrow as pa
from psycopg2 import sql

from orchestration.warehouse import connect_file, connect_scratch, rewrite_file

VALUES = "_erased_values"
#: (schema, table) -> column holding a whole delivered record as JSON text: matched on the quoted value.
JSON_RECORD_COLUMNS = {("audit", "quarantine"): "record"}
SERVING_SCHEMA = "marts"


def _text_columns(con: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[str, str, list[str]]]:
    """(schema, table, VARCHAR columns) of every base table of `catalog`."""
    return con.execute(
        "select c.table_schema, c.table_name, list(c.column_name order by c.ordinal_position) "
        "from information_schema.columns c join information_schema.tables t "
        "on c.table_catalog = t.table_catalog and c.table_schema = t.table_schema and c.table_name = t.table_name "
        "where t.table_type = 'BASE TABLE' and c.table_catalog = ? and c.data_type = 'VARCHAR' "
        "group by all order by all",
        [catalog],
    ).fetchall()


def _matches(schema: str, table: str, columns: list[str]) -> str:
    """SQL true for a row holding one of the values (never null)."""
    tests = [f'"{c}" in (select v from {VALUES})' for c in columns]
    record = JSON_RECORD_COLUMNS.get((schema, table))
    if record in columns:
        tests.append(f"exists (select 1 from {VALUES} where contains(\"{record}\", '\"' || v || '\"'))")
    return "coalesce(" + " or ".join(tests) + ", false)"


def scrub_warehouse(path: Path, values: pa.Table, config: dict[str, str] | None = None) -> dict[str, int]:
    """Delete the rows holding any of `values` from every table of the DuckDB file at `path`, then rewrite the file
    so their bytes are gone. Returns rows deleted per table (only tables that lost rows)."""
    deleted: dict[str, int] = {}
    with connect_file(path, config=config) as con:
        con.register(VALUES, values)
        catalog = con.execute("select current_database()").fetchall()[0][0]
        for schema, table, columns in _text_columns(con, catalog):
            n = con.execute(f'delete from "{schema}"."{table}" where {_matches(schema, table, columns)}').fetchall()
            if n[0][0]:
                deleted[f"{schema}.{table}"] = n[0][0]
    if deleted:
        rewrite_file(path, config)
    return deleted


def scrub_published(path: Path, values: pa.Table, storage_version: str) -> dict[str, int]:
    """A published file (live, kept version or rolled-back copy) without the rows holding any of `values`: copied
    table by table into a fresh file in `storage_version`, which replaces it atomically with the same mode. The file
    is only read, so a BI tool holding it open does not block the erasure. Returns rows dropped per table."""
    fresh = path.with_name(f".{path.name}.erase.tmp")
    fresh.unlink(missing_ok=True)
    dropped: dict[str, int] = {}
    try:
        with connect_scratch() as con:
            con.register(VALUES, values)
            con.execute(f"attach '{path}' as src (read_only)")
            con.execute(f"attach '{fresh}' as dst (storage_version '{storage_version}')")
            text = {(s, t): cols for s, t, cols in _text_columns(con, "src")}
            tables = con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_catalog = 'src' and table_type = 'BASE TABLE' order by all"
            ).fetchall()
            for schema, table in tables:
                if schema != "main":
                    con.execute(f'create schema if not exists dst."{schema}"')
                keep = f"not {_matches(schema, table, text[(schema, table)])}" if (schema, table) in text else "true"
                con.execute(
                    f'create table dst."{schema}"."{table}" as select * from src."{schema}"."{table}" where {keep}'
                )
                before = con.execute(f'select count(*) from src."{schema}"."{table}"').fetchall()[0][0]
                after = con.execute(f'select count(*) from dst."{schema}"."{table}"').fetchall()[0][0]
                if before != after:
                    dropped[table] = before - after
            con.execute("checkpoint dst")
            con.execute("detach dst")
            con.execute("detach src")
        if not dropped:
            return {}
        os.chmod(fresh, stat.S_IMODE(path.stat().st_mode))
        with open(fresh, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(fresh, path)
    finally:
        fresh.unlink(missing_ok=True)
        fresh.with_name(fresh.name + ".wal").unlink(missing_ok=True)
    return dropped


def scrub_postgres(dsn: str, values: list[str], schema: str = SERVING_SCHEMA) -> dict[str, int]:
    """Delete the rows holding any of `values` from every table of the serving schema and VACUUM FULL those tables
    (dead tuples keep the bytes until then). Returns rows deleted per table."""
    deleted: dict[str, int] = {}
    con = psycopg2.connect(dsn)
    try:
        with con, con.cursor() as cur:
            cur.execute(
                "select table_name, array_agg(column_name::text order by ordinal_position) "
                "from information_schema.columns where table_schema = %s "
                "and data_type in ('text', 'character varying') group by table_name order by table_name",
                [schema],
            )
            for table, columns in cur.fetchall():
                where = sql.SQL(" or ").join(sql.SQL("{} = any(%(v)s)").format(sql.Identifier(c)) for c in columns)
                cur.execute(
                    sql.SQL("delete from {}.{} where ").format(sql.Identifier(schema), sql.Identifier(table)) + where,
                    {"v": values},
                )
                if cur.rowcount:
                    deleted[table] = cur.rowcount
        con.autocommit = True
        with con.cursor() as cur:
            for table in deleted:
                cur.execute(sql.SQL("vacuum full {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
    finally:
        con.close()
    return deleted
