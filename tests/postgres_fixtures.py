"""Fixtures for tests against the local PostgreSQL (127.0.0.1:5432, trust auth, superuser `postgres`).

Import them explicitly in a test module (`from tests.postgres_fixtures import pg_target_fixture, ...`); the
tests request them as `pg_target`, `reader_role` and `activation_role`. Every test gets its own
throwaway database; the reader role is unique per test session (roles are cluster-global) and dropped at the end.

A module whose tests need the server says so with `pytestmark = pytest.mark.postgres`: before any test runs, the
session tries one short connect and, if the server is not there, stops with one line saying how to start it
(`require_postgres`, called from conftest.py). `C360_TEST_PG_HOST` / `C360_TEST_PG_PORT` point the tests elsewhere.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg2
import pytest

PG_HOST = os.environ.get("C360_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("C360_TEST_PG_PORT", "5432"))
PG_SUPERUSER = "postgres"
CONNECT_TIMEOUT_S = 2
START_HINT = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


def postgres_unavailable() -> str | None:
    """None if the test server accepts a connection within CONNECT_TIMEOUT_S, else one line: what and how to fix."""
    try:
        psycopg2.connect(
            dbname="postgres", user=PG_SUPERUSER, host=PG_HOST, port=PG_PORT, connect_timeout=CONNECT_TIMEOUT_S
        ).close()
    except psycopg2.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return (
            f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT} ({reason}); the tests marked `postgres` need it. "
            f"Start it with: {START_HINT}  (or skip them: -m 'not postgres')"
        )
    return None


def require_postgres(session: pytest.Session, items: list[pytest.Item]) -> None:
    """Stop the session before it starts if a selected test needs PostgreSQL and the server is not there.

    In a pytest-xdist worker `pytest.exit` would crash it and the controller would start the next one: the worker
    runs nothing instead and sets `shouldstop`, which the controller prints once before it stops."""
    if any(item.get_closest_marker("postgres") for item in items):
        problem = postgres_unavailable()
        if problem and hasattr(session.config, "workerinput"):
            session.shouldstop = problem
            items.clear()
        elif problem:
            pytest.exit(problem)


@dataclass(frozen=True)
class PgTarget:
    """A throwaway database: `dsn` for the publisher (as superuser), `connect()` for assertions."""

    dbname: str

    @property
    def dsn(self) -> str:
        return f"host={PG_HOST} port={PG_PORT} user={PG_SUPERUSER} dbname={self.dbname}"

    def connect(self, user: str = PG_SUPERUSER, autocommit: bool = True) -> psycopg2.extensions.connection:
        conn = psycopg2.connect(dbname=self.dbname, user=user, host=PG_HOST, port=PG_PORT)
        conn.autocommit = autocommit
        return conn


def _admin() -> psycopg2.extensions.connection:
    conn = psycopg2.connect(dbname="postgres", user=PG_SUPERUSER, host=PG_HOST, port=PG_PORT)
    conn.autocommit = True
    return conn


def _session_role(prefix: str) -> Iterator[str]:
    """A role name unique to this session; dropped at the end (after every test database is gone)."""
    role = f"{prefix}_{secrets.token_hex(4)}"
    yield role
    with _admin() as conn, conn.cursor() as cur:
        cur.execute(f'drop role if exists "{role}"')
    conn.close()


@pytest.fixture(scope="session", name="reader_role")
def reader_role_fixture() -> Iterator[str]:
    """The BI reader role of this session."""
    yield from _session_role("bi_reader")


@pytest.fixture(scope="session", name="activation_role")
def activation_role_fixture() -> Iterator[str]:
    """The activation (marketing tools) role of this session."""
    yield from _session_role("activation")


@contextmanager
def throwaway_database() -> Iterator[PgTarget]:
    """A fresh database with non-marts `raw` and `quarantine` schemas (the reader must not see them), dropped after."""
    target = PgTarget(f"c360_test_{secrets.token_hex(4)}")
    admin = _admin()
    with admin.cursor() as cur:
        cur.execute(f'create database "{target.dbname}"')
    try:
        with target.connect() as conn, conn.cursor() as cur:
            cur.execute("create schema raw; create table raw.crm_customers (customer_id bigint, email text)")
            cur.execute("insert into raw.crm_customers values (1, 'someone@example.com')")
            cur.execute("create schema quarantine; create table quarantine.bad_rows (payload text)")
            cur.execute("insert into quarantine.bad_rows values ('secret')")
        conn.close()
        yield target
    finally:
        with admin.cursor() as cur:
            cur.execute(f'drop database if exists "{target.dbname}" with (force)')
        admin.close()


@pytest.fixture(name="pg_target")
def pg_target_fixture() -> Iterator[PgTarget]:
    with throwaway_database() as target:
        yield target


def postgres_marts(target: PgTarget) -> tuple[str, dict[str, int]]:
    """The run id that published the live Postgres marts and each table's row count."""
    with target.connect() as conn, conn.cursor() as cur:
        cur.execute("select run_id from marts._publish_log")
        (run_id,) = cur.fetchone()
        cur.execute("select table_name from information_schema.tables where table_schema = 'marts' order by 1")
        counts = {}
        for (table,) in cur.fetchall():
            cur.execute(f'select count(*) from marts."{table}"')
            counts[table] = cur.fetchone()[0]
    return run_id, counts
