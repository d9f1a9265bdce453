"""An operational CRM in PostgreSQL, shaped like the raw contract: schema `crm`, one table per CRM contract table.

Why: the `postgres` source reads a live CRM incrementally (see orchestration/extract/crm_postgres_source.py). To run and
test that end to end without a company database, `seed_postgres` builds the same kind of database from the embedded
generator: typed columns, primary keys, NOT NULL on required columns, money as NUMERIC, and an index on the
`updated_at` cursor, loaded with COPY. Seeding replaces the tables, so it is idempotent.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import psycopg2
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg2 import sql

from orchestration.extract.crm_postgres_source import CRM_SCHEMA, CRM_SOURCE, CURSOR_COLUMN
from orchestration.extract.raw_contract import RawTable, tables_of

#: Money is NUMERIC in an operational database; the extract casts it back to the contract's float64.
MONEY_COLUMNS = frozenset({"list_price_usd", "unit_cost_usd", "order_total", "unit_price", "line_total"})
MONEY_TYPE = "numeric(14,2)"

_PG_TYPES: dict[pa.DataType, str] = {
    pa.string(): "text",
    pa.int64(): "bigint",
    pa.float64(): "double precision",
    pa.bool_(): "boolean",
    pa.date32(): "date",
    pa.timestamp("us", tz="UTC"): "timestamptz",
}


def crm_tables() -> tuple[RawTable, ...]:
    """Every CRM table of the contract."""
    return tables_of(CRM_SOURCE)


def pg_type(spec: RawTable, column: str) -> str:
    field = spec.schema.field(column)
    if column in MONEY_COLUMNS and field.type == pa.float64():
        return MONEY_TYPE
    try:
        return _PG_TYPES[field.type]
    except KeyError:
        raise TypeError(f"{spec.name}.{column}: no PostgreSQL type for Arrow type {field.type}") from None


def create_table_sql(spec: RawTable) -> sql.Composed:
    """DDL of one CRM table: contract columns in order, NOT NULL on required ones, the primary key."""
    columns = [
        sql.SQL("{} {}{}").format(
            sql.Identifier(c.name), sql.SQL(pg_type(spec, c.name)), sql.SQL(" not null" if c.required else "")
        )
        for c in spec.columns
    ]
    columns.append(sql.SQL("primary key ({})").format(sql.SQL(", ").join(map(sql.Identifier, spec.primary_key))))
    table = sql.Identifier(CRM_SCHEMA, spec.name)
    ddl = "drop table if exists {table}; create table {table} ({columns}); create index on {table} ({cursor})"
    return sql.SQL(ddl).format(table=table, columns=sql.SQL(", ").join(columns), cursor=sql.Identifier(CURSOR_COLUMN))


def _csv(table: pa.Table) -> io.BytesIO:
    """CSV for COPY: strings are always quoted, so an empty string stays '' and only a missing value is NULL."""
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    buffer.seek(0)
    return buffer


def seed_postgres(tables: Mapping[str, pa.Table], url: str) -> dict[str, int]:
    """(Re)create schema `crm` at `url` with every CRM contract table and COPY in the given tables' rows.

    Contract tables absent from `tables` are created empty; non-CRM tables in `tables` are ignored. One transaction:
    a reader sees the old tables or the new ones. Returns rows loaded per table.
    """
    loaded: dict[str, int] = {}
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(CRM_SCHEMA)))
        for spec in crm_tables():
            cur.execute(create_table_sql(spec))
            if spec.name not in tables:
                loaded[spec.name] = 0
                continue
            data = _contract_columns(tables[spec.name], spec)
            copy = sql.SQL("copy {} ({}) from stdin with (format csv)").format(
                sql.Identifier(CRM_SCHEMA, spec.name), sql.SQL(", ").join(map(sql.Identifier, data.column_names))
            )
            cur.copy_expert(copy.as_string(cur), _csv(data))
            loaded[spec.name] = data.num_rows
        cur.execute(sql.SQL("analyze"))
    conn.close()
    return loaded


def _contract_columns(table: pa.Table, spec: RawTable) -> pa.Table:
    missing = [c.name for c in spec.columns if c.name not in table.column_names]
    if missing:
        raise ValueError(f"{spec.name}: the table to seed lacks contract column(s) {', '.join(missing)}")
    return table.select([c.name for c in spec.columns])
