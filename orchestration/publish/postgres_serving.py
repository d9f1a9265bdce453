"""Optional PostgreSQL serving target: copy the gated marts into Postgres and swap them in atomically.

The DuckDB publisher (`publisher.py`) swaps a whole file. Here the unit of swap is a schema: the marts are loaded
into a fresh schema and, in the same transaction, the live schema is renamed away and the new one renamed to
`marts`. BI tools keep querying `marts.<table>` and see the previous run's tables or the new run's tables, never a
mix and never an error.

How it works (one connection, one transaction for build + swap, then a separate drop):

1. Plan: read every table's columns from the DuckDB build file (opened read-only) and map their types. An
   unmappable type or a missing table fails here, before Postgres is touched.
2. Build: `CREATE SCHEMA marts__build_<id>`, one table per mart, bulk-loaded with `COPY ... FROM STDIN (FORMAT
   csv)` from Arrow record batches streamed out of DuckDB (never row-by-row INSERTs), `ANALYZE`, a
   `_publish_log` row, then the primary, unique and foreign keys and the table and column comments from the dbt
   docs (mart_docs.py). Nothing is committed yet, so a failure (or a crash: the server rolls back on disconnect)
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

The reader role is set up once by `c360 postgres provision` (pg_roles.py); each publish only grants it the new
schema inside the swap transaction, and fails naming that command if the role does not exist.

One job per module: pg_names.py (identifiers), pg_copy.py (plan + COPY), pg_swap.py (locks, rename, drop),
pg_roles.py (the reader and activation roles); this module runs them in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg2
from psycopg2 import sql

from orchestration.publish.mart_docs import TableDoc
from orchestration.publish.pg_copy import build_schema, plan_tables
from orchestration.publish.pg_names import BUILD_INFIX, OLD_INFIX, PUBLISH_LOG, short_id, validate_request
from orchestration.publish.pg_roles import ServingRoles
from orchestration.publish.pg_swap import acquire_publish_lock, drop_leftovers, drop_schema, swap
from orchestration.warehouse import connect_file


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
    activation_role: str = "",
    activation_tables: tuple[str, ...] = (),
    docs: Mapping[str, TableDoc] | None = None,
    lock_timeout_s: float = 0.5,
    swap_timeout_s: float = 30.0,
    batch_rows: int = 100_000,
) -> PostgresPublishResult:
    """Copy `tables` ([(duckdb schema, table)]) from the build warehouse into Postgres `schema`, swapped atomically.

    `lock_timeout_s` bounds how long readers can be stalled behind one swap attempt; `swap_timeout_s` bounds how long
    we keep retrying before raising `PublishLockTimeout` (live schema untouched). `activation_role`, if set, may
    read only `activation_tables` (a subset of `tables`); `reader_role` reads them all. `docs` (mart_docs.py) gives
    the tables their comments and keys, as in the DuckDB file.
    """
    roles = ServingRoles(reader_role, activation_role, activation_tables)
    validate_request(tables, schema, reader_role)
    roles.validate([table for _, table in tables])
    plans = plan_tables(warehouse_path, tables)
    suffix = short_id(run_id)
    build_name = f"{schema}{BUILD_INFIX}{suffix}"
    old_schema = f"{schema}{OLD_INFIX}{suffix}"

    conn = psycopg2.connect(dsn)
    try:
        conn.set_client_encoding("UTF8")
        acquire_publish_lock(conn, schema)
        drop_leftovers(conn, schema, lock_timeout_s)
        with connect_file(warehouse_path, read_only=True) as duck:
            row_counts = build_schema(conn, duck, plans, build_name, run_id, details, batch_rows, docs)
        renamed_to, attempts = swap(conn, schema, build_name, old_schema, roles, lock_timeout_s, swap_timeout_s)
        fate = "none" if renamed_to is None else drop_schema(conn, renamed_to, swap_timeout_s)
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


def served_run(dsn: str, schema: str = "marts", connect_timeout_s: int = 3) -> tuple[str, datetime] | None:
    """The run whose marts PostgreSQL serves now and when they were published (its `_publish_log`); None if nothing
    was published there yet. Compared with the DuckDB file's run, it tells whether the copy is stale."""
    conn = psycopg2.connect(dsn, connect_timeout=connect_timeout_s)
    try:
        with conn.cursor() as cur:
            cur.execute("select to_regclass(%s)", (f"{schema}.{PUBLISH_LOG}",))
            if cur.fetchone()[0] is None:
                return None
            cur.execute(sql.SQL("select run_id, published_at from {}").format(sql.Identifier(schema, PUBLISH_LOG)))
            run_id, published_at = cur.fetchone()
    finally:
        conn.close()
    return run_id, published_at
