"""Optional PostgreSQL serving target: copy the gated marts into Postgres and swap them in atomically.

The DuckDB publisher (`publisher.py`) swaps a whole file. Here the unit of swap is a schema: the marts are loaded
into a fresh schema and, in the same transaction, the live schema is renamed away and the new one renamed to
`marts`. BI tools keep querying `marts.<table>` and see the previous run's tables or the new run's tables, never a
mix and never an error.

How it works (one connection, one transaction for build + swap, then a separate drop):

1. Plan: read every table's columns from the DuckDB build file (opened read-only) and map their types. An
   unmappable type or a missing table fails here, before Postgres is touched.
2. Build: `CREATE SCHEMA marts__build_<id>`, one table per mart, bulk-loaded with `COPY ... FROM STDIN (FORMAT
   csv)` from Arrow record batches streamed out of DuckDB (never row-by-row INSERTs), `ANALYZE`, and a
   `_publish_log` row. Nothing is committed yet, so a failure (or a crash: the server rolls back on disconnect)
   leaves no build schema behind.
3. Swap, in the same transaction, under a savepoint: `LOCK TABLE` every relation of the live schema in ACCESS
   EXCLUSIVE mode, rename live -> `marts__old_<id>`, rename build -> `marts`, grant the reader role, `COMMIT`.
   If the locks are not granted within `lock_timeout_s` we roll back to the savepoint (releasing the locks we did
   get, so the readers queued behind us run), wait briefly and retry until `swap_timeout_s`; then the whole
   transaction is rolled back and `PublishLockTimeout` is raised: the live schema is untouched.
4. Drop `marts__old_<id>` (`DROP SCHEMA ... CASCADE`) in its own transaction. If that cannot get its locks in
   time the old schema is kept and the next publish drops it.

Locking and consistency, verified on PostgreSQL 15 (see tests/test_publish_postgres.py):

- `ALTER SCHEMA ... RENAME` takes no lock on the tables in the schema: it only updates the `pg_namespace` row. A
  reader holding ACCESS SHARE on `marts.t` does not block it, and the rename commits immediately.
- Readers resolve `marts.t` to a table OID while parsing, one relation at a time, and lock each OID as they go.
  After every lock they process invalidations and, if the catalog changed, look the name up again. So without
  table locks a statement reading two marts tables can resolve the first one before the rename commits and the
  second one after it: a mix of two runs in one result. It is a microsecond window for a plain join but a wide one
  for anything late-bound (a PL/pgSQL function or a second statement in a transaction). Hence step 3 locks the
  old tables: a reader that already holds any of them makes the swap wait (no mix), and a reader that arrives
  while the swap holds them waits on its lock, then re-resolves the name to the new schema when the swap commits.
- Renames are not visible until commit, and a name is never missing in between: the old schema keeps its OID when
  renamed, so a reader either resolves `marts` to the old OID (and finds its tables there) or to the new one. No
  "relation does not exist" at any point, and the grants on the new tables commit together with the rename, so no
  "permission denied" either.
- In READ COMMITTED a statement takes its execution snapshot after parse analysis has locked its tables, so a
  reader blocked by the swap sees the new tables with their committed rows.
- While the swap waits for ACCESS EXCLUSIVE, new readers of those tables queue behind it. The per-attempt
  `lock_timeout` bounds that stall (default 0.5 s), and between attempts readers run freely.
- Deadlocks: a reader holding table B that then needs table A (already locked by the swap) while the swap waits
  for B is a deadlock (the test with a late-binding reader builds exactly this; with 3 s attempts the swap got
  "deadlock detected"). Postgres aborts whichever waiter's `deadlock_timeout` (1 s default) expires first, usually
  the swap, but not always. The per-attempt lock timeout is kept below half of `deadlock_timeout`, so the swap gives
  up first and the reader is never the victim: the reader continues on the old tables and the swap retries.
- A reader mid-query on old tables makes the swap wait (it holds ACCESS SHARE), so by the time of the drop nobody
  uses the old tables and the drop is immediate. The drop takes locks only on old tables, which new statements
  never resolve to, so it never blocks readers of the new schema.
- Caveats: a REPEATABLE READ / SERIALIZABLE transaction that took its snapshot before a publish but touched no
  marts table yet sees the new tables as empty (Postgres' documented MVCC caveat for objects created after a
  snapshot). Views in other schemas over `marts.*` bind to table OIDs: they keep pointing at the old tables and are
  dropped with them by `DROP SCHEMA ... CASCADE`. BI tools run READ COMMITTED statements on `marts` directly.

The reader role is created `LOGIN` without a password, which is enough with local trust auth; production sets a
password (or uses another auth method) out of band: this module never touches an existing role's password.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psycopg2
import psycopg2.errors
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg2 import sql
from psycopg2.extensions import connection as PgConnection
from psycopg2.extensions import cursor as PgCursor

PUBLISH_LOG = "_publish_log"
BUILD_INFIX = "__build_"
OLD_INFIX = "__old_"
#: Postgres truncates identifiers longer than this many bytes (NAMEDATALEN - 1), silently: refuse them instead.
MAX_IDENTIFIER_BYTES = 63
SHORT_ID_CHARS = 12
#: Schemas we must never rename or drop.
RESERVED_SCHEMAS = frozenset({"public", "information_schema"})
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
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


class PublishLockTimeout(RuntimeError):
    """The swap could not lock the live tables in time: long-running readers. Nothing was changed."""


class PublishInProgress(RuntimeError):
    """Another publish to the same schema holds the publish lock."""


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


@dataclass(frozen=True)
class PostgresPublishResult:
    """What a publish did. `previous_fate` is "none" (no live schema before), "dropped", or "kept" (the drop could
    not get its locks in time; `previous_schema` still exists and the next publish drops it)."""

    schema: str
    tables: dict[str, int]
    run_id: str
    previous_schema: str | None
    previous_fate: str
    swap_attempts: int


def publish_to_postgres(
    warehouse_path: Path,
    tables: list[tuple[str, str]],
    dsn: str,
    run_id: str,
    details: dict[str, object],
    schema: str = "marts",
    reader_role: str = "bi_reader",
    *,
    lock_timeout_s: float = 0.5,
    swap_timeout_s: float = 30.0,
    batch_rows: int = 100_000,
) -> PostgresPublishResult:
    """Copy `tables` ([(duckdb schema, table)]) from the build warehouse into Postgres `schema`, swapped atomically.

    `lock_timeout_s` bounds how long readers can be stalled behind one swap attempt; `swap_timeout_s` bounds how long
    we keep retrying before raising `PublishLockTimeout` (live schema untouched).
    """
    _validate(tables, schema, reader_role)
    plans = plan_tables(warehouse_path, tables)
    short_id = _short_id(run_id)
    build_schema = f"{schema}{BUILD_INFIX}{short_id}"
    old_schema = f"{schema}{OLD_INFIX}{short_id}"

    conn = psycopg2.connect(dsn)
    try:
        conn.set_client_encoding("UTF8")
        _acquire_publish_lock(conn, schema)
        _drop_leftovers(conn, schema, lock_timeout_s)
        with duckdb.connect(str(warehouse_path), read_only=True) as duck:
            row_counts = _build(conn, duck, plans, build_schema, run_id, details, batch_rows)
        renamed_to, attempts = _swap(
            conn, schema, build_schema, old_schema, reader_role, lock_timeout_s, swap_timeout_s
        )
        fate = "none" if renamed_to is None else _drop_schema(conn, renamed_to, swap_timeout_s)
    finally:
        conn.close()  # an uncommitted build/swap is rolled back by the server
    return PostgresPublishResult(
        schema=schema,
        tables=row_counts,
        run_id=run_id,
        previous_schema=renamed_to,
        previous_fate=fate,
        swap_attempts=attempts,
    )


def ensure_reader_role(conn: PgConnection, role: str, schema: str = "marts") -> None:
    """Make `role` a login role that can read `schema` and nothing else; runs in the caller's transaction.

    Called inside the swap transaction, so the new schema is readable the instant it becomes `marts`. Privileges on
    other schemas are never granted (schemas other than `public` have no PUBLIC usage by default), and CREATE on the
    database and on `public` is revoked if the role has it (PostgreSQL 15 no longer grants CREATE on `public`).
    Temporary tables stay allowed through PUBLIC's default TEMPORARY privilege: they are private to the session.
    """
    _check_identifier(role, "role")
    _check_identifier(schema, "schema")
    role_id = sql.Identifier(role)
    with conn.cursor() as cur:
        cur.execute("select rolsuper, rolbypassrls from pg_roles where rolname = %s", (role,))
        found = cur.fetchone()
        if found is None:
            cur.execute(
                sql.SQL("create role {} login nosuperuser nocreatedb nocreaterole noreplication nobypassrls").format(
                    role_id
                )
            )
        elif found[0] or found[1]:
            raise ValueError(f"reader role {role!r} is a superuser or bypasses RLS: it would read every schema")
        cur.execute("select current_database()")
        database = sql.Identifier(cur.fetchone()[0])
        cur.execute(sql.SQL("grant connect on database {} to {}").format(database, role_id))
        cur.execute("select has_database_privilege(%s, current_database(), 'CREATE')", (role,))
        if cur.fetchone()[0]:
            cur.execute(sql.SQL("revoke create on database {} from {}").format(database, role_id))
            cur.execute(sql.SQL("revoke create on database {} from public").format(database))
        cur.execute("select count(*) = 1 from pg_namespace where nspname = 'public'")
        if cur.fetchone()[0]:
            cur.execute("select has_schema_privilege(%s, 'public', 'CREATE')", (role,))
            if cur.fetchone()[0]:
                cur.execute(sql.SQL("revoke create on schema public from {}").format(role_id))
                cur.execute("revoke create on schema public from public")
        cur.execute("select count(*) = 1 from pg_namespace where nspname = %s", (schema,))
        if cur.fetchone()[0]:
            cur.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(schema), role_id))
            cur.execute(
                sql.SQL("grant select on all tables in schema {} to {}").format(sql.Identifier(schema), role_id)
            )


def plan_tables(warehouse_path: Path, tables: list[tuple[str, str]]) -> list[TablePlan]:
    """Columns and mapped types of every table, read before touching Postgres so a bad table fails fast."""
    plans = []
    with duckdb.connect(str(warehouse_path), read_only=True) as duck:
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


def _validate(tables: list[tuple[str, str]], schema: str, reader_role: str) -> None:
    """Refuse bad input before any side effect: names end up as Postgres identifiers of bounded length."""
    if not tables:
        raise ValueError("no tables to publish")
    _check_identifier(schema, "schema")
    _check_identifier(reader_role, "reader role")
    if schema.lower() in RESERVED_SCHEMAS or schema.lower().startswith("pg_"):
        raise ValueError(f"schema {schema!r} is reserved")
    if len(schema) + len(BUILD_INFIX) + SHORT_ID_CHARS > MAX_IDENTIFIER_BYTES:
        raise ValueError(f"schema {schema!r} is too long to derive the build schema name")
    names = [table for _, table in tables]
    for source_schema, table in tables:
        _check_identifier(source_schema, "source schema")
        _check_identifier(table, "table")
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate table names: {sorted(names)}")
    if PUBLISH_LOG in names:
        raise ValueError(f"{PUBLISH_LOG} is written by the publisher itself")


def _check_identifier(name: str, what: str) -> None:
    if not isinstance(name, str) or not _IDENTIFIER.match(name) or len(name) > MAX_IDENTIFIER_BYTES:
        raise ValueError(
            f"invalid {what} name {name!r}: use letters, digits and _ (at most 63), not starting with a digit"
        )


def _short_id(run_id: str) -> str:
    """A schema-name-safe id: the run id's alphanumerics when it has enough (Dagster uuids), else a hash of it."""
    cleaned = re.sub(r"[^a-z0-9]", "", run_id.lower())
    if len(cleaned) >= 8:
        return cleaned[:SHORT_ID_CHARS]
    return hashlib.sha256(run_id.encode()).hexdigest()[:SHORT_ID_CHARS]


def publish_lock_key(schema: str) -> int:
    """The session advisory lock key that serializes publishers of `schema` in one database."""
    return int.from_bytes(hashlib.sha256(f"c360.publish.{schema}".encode()).digest()[:8], "big", signed=True)


def _acquire_publish_lock(conn: PgConnection, schema: str) -> None:
    """Serialize publishers of one schema (session advisory lock, released when the connection closes), so two
    runs never rename the same schemas or drop each other's leftovers."""
    with conn.cursor() as cur:
        cur.execute("select pg_try_advisory_lock(%s)", (publish_lock_key(schema),))
        acquired = cur.fetchone()[0]
    conn.commit()
    if not acquired:
        raise PublishInProgress(f"another publish to schema {schema!r} is in progress")


def _drop_leftovers(conn: PgConnection, schema: str, lock_timeout_s: float) -> None:
    """Drop `<schema>__old_*` kept by an earlier publish whose drop timed out (and any stray build schema)."""
    with conn.cursor() as cur:
        cur.execute(
            "select nspname from pg_namespace where left(nspname, length(%s)) = %s or left(nspname, length(%s)) = %s",
            (schema + OLD_INFIX, schema + OLD_INFIX, schema + BUILD_INFIX, schema + BUILD_INFIX),
        )
        leftovers = [r[0] for r in cur.fetchall()]
    conn.commit()
    for name in leftovers:
        _drop_schema(conn, name, lock_timeout_s)


def _build(
    conn: PgConnection,
    duck: duckdb.DuckDBPyConnection,
    plans: list[TablePlan],
    build_schema: str,
    run_id: str,
    details: dict[str, object],
    batch_rows: int,
) -> dict[str, int]:
    """Create and load the build schema in the open (uncommitted) transaction; return row counts per table."""
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
    return row_counts


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
        f"{_duck_ident(c.name)}::VARCHAR" if c.duckdb_type in _CAST_TO_VARCHAR else _duck_ident(c.name)
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


def _swap(
    conn: PgConnection,
    schema: str,
    build_schema: str,
    old_schema: str,
    reader_role: str,
    lock_timeout_s: float,
    swap_timeout_s: float,
) -> tuple[str | None, int]:
    """Lock the live tables, rename live -> old and build -> live, grant, commit. Returns (old name or None, attempts).

    On failure to lock within `swap_timeout_s` the whole transaction (build included) is rolled back.
    """
    attempt_ms = _attempt_lock_timeout_ms(conn, lock_timeout_s)
    deadline = time.monotonic() + swap_timeout_s
    attempts = 0
    with conn.cursor() as cur:
        while True:
            attempts += 1
            cur.execute("savepoint c360_swap")
            cur.execute("select set_config('lock_timeout', %s, true)", (f"{attempt_ms}ms",))
            try:
                live_exists = _lock_live_relations(cur, schema)
                break
            except (psycopg2.errors.LockNotAvailable, psycopg2.errors.DeadlockDetected) as error:
                cur.execute("rollback to savepoint c360_swap")
                if time.monotonic() >= deadline:
                    conn.rollback()
                    raise PublishLockTimeout(
                        f"could not lock the live schema {schema!r} within {swap_timeout_s:g}s ({attempts} attempts "
                        f"of {attempt_ms} ms; last: {str(error).strip()}): long-running readers hold its tables. "
                        "Nothing was published; the live schema is unchanged."
                    ) from error
                time.sleep(min(0.05 * attempts, 0.5))
        if live_exists:
            cur.execute(
                sql.SQL("alter schema {} rename to {}").format(sql.Identifier(schema), sql.Identifier(old_schema))
            )
        cur.execute(
            sql.SQL("alter schema {} rename to {}").format(sql.Identifier(build_schema), sql.Identifier(schema))
        )
        ensure_reader_role(conn, reader_role, schema)
    conn.commit()
    return (old_schema if live_exists else None), attempts


def _attempt_lock_timeout_ms(conn: PgConnection, lock_timeout_s: float) -> int:
    """Per-attempt lock wait, kept under half the server's deadlock_timeout so a reader is never the deadlock victim."""
    with conn.cursor() as cur:
        cur.execute("select setting::int from pg_settings where name = 'deadlock_timeout'")
        deadlock_ms = cur.fetchone()[0]
    return max(1, min(int(lock_timeout_s * 1000), deadlock_ms // 2))


def _lock_live_relations(cur: PgCursor, schema: str) -> bool:
    """ACCESS EXCLUSIVE on every relation of the live schema, in name order. False if there is no live schema."""
    cur.execute("select count(*) = 1 from pg_namespace where nspname = %s", (schema,))
    if not cur.fetchone()[0]:
        return False
    cur.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm', 'f') order by c.relname",
        (schema,),
    )
    names = [r[0] for r in cur.fetchall()]
    if names:
        cur.execute(
            sql.SQL("lock table {} in access exclusive mode").format(
                sql.SQL(", ").join(sql.Identifier(schema, n) for n in names)
            )
        )
    return True


def _drop_schema(conn: PgConnection, name: str, timeout_s: float) -> str:
    """DROP SCHEMA ... CASCADE in its own transaction; "kept" if its locks are not granted within `timeout_s`."""
    with conn.cursor() as cur:
        cur.execute("select set_config('lock_timeout', %s, true)", (f"{max(1, int(timeout_s * 1000))}ms",))
        try:
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(name)))
        except (psycopg2.errors.LockNotAvailable, psycopg2.errors.DeadlockDetected):
            conn.rollback()
            return "kept"
    conn.commit()
    return "dropped"


def _duck_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _duck_name(schema: str, table: str) -> str:
    return f"{_duck_ident(schema)}.{_duck_ident(table)}"
