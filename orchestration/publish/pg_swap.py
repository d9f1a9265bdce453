"""The atomic swap on PostgreSQL: serialise publishers, lock the live tables, rename build -> live, drop the old.

See orchestration/publish/postgres_serving.py for why this locking gives readers one run's tables, never a mix.
"""

from __future__ import annotations

import hashlib
import time

import psycopg2
import psycopg2.errors
from psycopg2 import sql
from psycopg2.extensions import connection as PgConnection
from psycopg2.extensions import cursor as PgCursor

from orchestration.publish.pg_names import BUILD_INFIX, OLD_INFIX
from orchestration.publish.pg_roles import ServingRoles


class PublishLockTimeout(RuntimeError):
    """The swap could not lock the live tables in time: long-running readers. Nothing was changed."""


class PublishInProgress(RuntimeError):
    """Another publish to the same schema holds the publish lock."""


def publish_lock_key(schema: str) -> int:
    """The session advisory lock key that serializes publishers of `schema` in one database."""
    return int.from_bytes(hashlib.sha256(f"c360.publish.{schema}".encode()).digest()[:8], "big", signed=True)


def acquire_publish_lock(conn: PgConnection, schema: str) -> None:
    """Serialize publishers of one schema (session advisory lock, released when the connection closes), so two
    runs never rename the same schemas or drop each other's leftovers."""
    with conn.cursor() as cur:
        cur.execute("select pg_try_advisory_lock(%s)", (publish_lock_key(schema),))
        acquired = cur.fetchone()[0]
    conn.commit()
    if not acquired:
        raise PublishInProgress(f"another publish to schema {schema!r} is in progress")


def drop_leftovers(conn: PgConnection, schema: str, lock_timeout_s: float) -> None:
    """Drop `<schema>__old_*` kept by an earlier publish whose drop timed out (and any stray build schema)."""
    with conn.cursor() as cur:
        cur.execute(
            "select nspname from pg_namespace where left(nspname, length(%s)) = %s or left(nspname, length(%s)) = %s",
            (schema + OLD_INFIX, schema + OLD_INFIX, schema + BUILD_INFIX, schema + BUILD_INFIX),
        )
        leftovers = [r[0] for r in cur.fetchall()]
    conn.commit()
    for name in leftovers:
        drop_schema(conn, name, lock_timeout_s)


def swap(
    conn: PgConnection,
    schema: str,
    build_schema: str,
    old_schema: str,
    roles: ServingRoles,
    lock_timeout_s: float,
    swap_timeout_s: float,
) -> tuple[str | None, int]:
    """Lock the live tables, rename live -> old and build -> live, grant `roles`, commit. Returns (old name or
    None, attempts).

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
        roles.grant(conn, schema)
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


def drop_schema(conn: PgConnection, name: str, timeout_s: float) -> str:
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
