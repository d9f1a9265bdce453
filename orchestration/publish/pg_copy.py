"""Loading marts into PostgreSQL: plan each table's columns and types from DuckDB, then stream it with COPY.

Tables are read from the DuckDB build file in Arrow record batches, written as CSV and fed to one
`COPY ... FROM STDIN (FORMAT csv)` per table (never row-by-row INSERTs); memory stays at one batch. A type without an
exact Postgres equivalent is refused, never loaded approximately.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg2 import sql
from psycopg2.extensions import connection as PgConnection
from psycopg2.extensions import cursor as PgCursor

from orchestration.publish.mart_docs import PUBLISH_LOG_DOC, TableDoc
from orchestration.publish.pg_names import MAX_IDENTIFIER_BYTES, PUBLISH_LOG
from orchestration.warehouse import connect_file, sql_ident

_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")

#: DuckDB type (as `duckdb_columns().data_type` spells it) -> Postgres type. Every entry round-trips exactly through
#: Arrow's CSV writer and Postgres' CSV COPY (tested); anything else is refused rather than loaded approximately.
TYPE_MAP: dict[str, str] = {
    "VARCHAR": "text",
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "UUID": "uuid",
    "JSON": "jsonb",
}
#: Types DuckDB hands to Arrow as something the CSV writer cannot render as Postgres input: cast to VARCHAR first.
_CAST_TO_VARCHAR = frozenset({"JSON", "UUID"})


@dataclass(frozen=True)
class Column:
    name: str
    duckdb_type: str
    postgres_type: str


@dataclass(frozen=True)
class TablePlan:
    source_schema: str
    name: str
    columns: tuple[Column, ...]


def plan_tables(warehouse_path: Path, tables: list[tuple[str, str]]) -> list[TablePlan]:
    """Columns and mapped types of every table, read before touching Postgres so a bad table fails fast."""
    plans = []
    with connect_file(warehouse_path, read_only=True) as duck:
        for source_schema, table in tables:
            rows = duck.execute(
                "select column_name, data_type from duckdb_columns() "
                "where database_name = current_database() and schema_name = ? and table_name = ? "
                "order by column_index",
                [source_schema, table],
            ).fetchall()
            if not rows:
                raise LookupError(f"table {source_schema}.{table} not found in {warehouse_path}")
            columns = []
            for name, duck_type in rows:
                if len(name.encode()) > MAX_IDENTIFIER_BYTES:
                    raise ValueError(f"{source_schema}.{table}.{name}: column name longer than 63 bytes")
                columns.append(Column(name, duck_type, postgres_type(duck_type, f"{source_schema}.{table}.{name}")))
            plans.append(TablePlan(source_schema, table, tuple(columns)))
    return plans


def postgres_type(duckdb_type: str, where: str = "") -> str:
    """Postgres type for a DuckDB type, or ValueError naming the column: we never load a lossy approximation."""
    if duckdb_type in TYPE_MAP:
        return TYPE_MAP[duckdb_type]
    decimal = _DECIMAL.match(duckdb_type)
    if decimal:
        return f"numeric({int(decimal.group(1))},{int(decimal.group(2))})"
    raise ValueError(f"{where or 'column'}: DuckDB type {duckdb_type} has no Postgres mapping")


def build_schema(
    conn: PgConnection,
    duck: duckdb.DuckDBPyConnection,
    plans: list[TablePlan],
    build_schema: str,
    run_id: str,
    details: dict[str, object],
    batch_rows: int,
    docs: Mapping[str, TableDoc] | None = None,
) -> dict[str, int]:
    """Create and load the build schema in the open (uncommitted) transaction; return row counts per table.

    Keys and comments come from `docs` (mart_docs.py) and are added after the load (one index build per key
    instead of index maintenance per row); adding a key validates it, so a duplicate or orphan fails the publish."""
    row_counts: dict[str, int] = {}
    with conn.cursor() as cur:
        cur.execute(sql.SQL("create schema {}").format(sql.Identifier(build_schema)))
        for plan in plans:
            target = sql.Identifier(build_schema, plan.name)
            cur.execute(sql.SQL("create table {} ({})").format(target, _column_ddl(plan.columns)))
            loaded = _copy_table(cur, duck, plan, target, batch_rows)
            expected = duck.sql(f"select count(*) from {_duck_name(plan.source_schema, plan.name)}").fetchall()[0][0]
            if loaded != expected:
                raise RuntimeError(f"{plan.name}: copied {loaded} rows, DuckDB has {expected}")
            cur.execute(sql.SQL("analyze {}").format(target))
            row_counts[plan.name] = loaded
        log = sql.Identifier(build_schema, PUBLISH_LOG)
        cur.execute(
            sql.SQL("create table {} (run_id text, published_at timestamptz, tables jsonb, details jsonb)").format(log)
        )
        cur.execute(
            sql.SQL("insert into {} values (%s, %s, %s, %s)").format(log),
            (run_id, datetime.now(UTC), json.dumps(row_counts), json.dumps(details, default=str)),
        )
        published = {plan.name for plan in plans}
        table_docs = {name: doc for name, doc in (docs or {}).items() if name in published}
        _declare_keys(cur, build_schema, table_docs)
        for doc in (*table_docs.values(), PUBLISH_LOG_DOC):
            _comment(cur, build_schema, doc)
    return row_counts


def _declare_keys(cur: PgCursor, schema: str, docs: Mapping[str, TableDoc]) -> None:
    """Primary and unique keys of every table first, then the foreign keys that reference them."""
    for doc in docs.values():
        table = sql.Identifier(schema, doc.name)
        if doc.primary_key:
            cur.execute(sql.SQL("alter table {} add primary key ({})").format(table, _columns(doc.primary_key)))
        for key in doc.unique_keys:
            cur.execute(sql.SQL("alter table {} add unique ({})").format(table, _columns(key)))
    for doc in docs.values():
        for fk in doc.foreign_keys:
            if fk.table in docs:
                cur.execute(
                    sql.SQL("alter table {} add foreign key ({}) references {} ({})").format(
                        sql.Identifier(schema, doc.name),
                        _columns(fk.columns),
                        sql.Identifier(schema, fk.table),
                        _columns(fk.ref_columns),
                    )
                )


def _comment(cur: PgCursor, schema: str, doc: TableDoc) -> None:
    table = sql.Identifier(schema, doc.name)
    if doc.description:
        cur.execute(sql.SQL("comment on table {} is %s").format(table), (doc.description,))
    for column, description in doc.columns.items():
        if description:
            cur.execute(sql.SQL("comment on column {}.{} is %s").format(table, sql.Identifier(column)), (description,))


def _columns(names: tuple[str, ...]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def _column_ddl(columns: Iterable[Column]) -> sql.Composed:
    # Postgres types come from TYPE_MAP or are numeric(p,s) built from two ints: never user text.
    return sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.postgres_type)) for c in columns
    )


def _copy_table(
    cur: PgCursor, duck: duckdb.DuckDBPyConnection, plan: TablePlan, target: sql.Composable, batch_rows: int
) -> int:
    """Stream the DuckDB table through Arrow batches -> CSV -> one COPY FROM STDIN; memory stays at one batch.

    Arrow's CSV writer quotes every string and leaves nulls as an unquoted empty field, which is exactly how
    Postgres' CSV format tells NULL from an empty string.
    """
    select_list = ", ".join(
        f"{sql_ident(c.name)}::VARCHAR" if c.duckdb_type in _CAST_TO_VARCHAR else sql_ident(c.name)
        for c in plan.columns
    )
    reader = duck.sql(f"select {select_list} from {_duck_name(plan.source_schema, plan.name)}").to_arrow_reader(
        batch_rows
    )
    copy = sql.SQL("copy {} ({}) from stdin with (format csv)").format(
        target, sql.SQL(", ").join(sql.Identifier(c.name) for c in plan.columns)
    )
    cur.copy_expert(copy.as_string(cur.connection), _ChunkReader(_csv_chunks(reader)))
    return cur.rowcount


def _csv_chunks(reader: pa.RecordBatchReader) -> Iterator[bytes]:
    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    for batch in reader:
        if batch.num_rows:
            buffer = io.BytesIO()
            pa_csv.write_csv(batch, buffer, options)
            yield buffer.getvalue()


class _ChunkReader(io.RawIOBase):
    """File-like view over an iterator of byte chunks, for `copy_expert` (which calls `read(size)`)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _duck_name(schema: str, table: str) -> str:
    return f"{sql_ident(schema)}.{sql_ident(table)}"
