"""The serving roles on the PostgreSQL target: provisioned once, granted each new marts schema on publish.

Two roles: the BI reader (`bi_reader`) reads every mart; the optional activation role (what marketing tools log in
as, `C360_POSTGRES_ACTIVATION_ROLE`) reads only the consented audience tables (dbt models with `meta: {activation:
true}`, today mart_audiences), never the analytics marts that hold non-consenting customers (README "Privacy").
Both are provisioned the same way; they differ only in what each publish grants them.

`provision_reader_role` is the one-time, explicit setup (`c360 postgres provision --reader-role bi_reader`): it
creates the role LOGIN without a password if missing (enough with local trust auth; production sets a password or
another auth method out of band: nothing here touches an existing role's password), lets it connect to the database,
and takes CREATE on the database and on `public` away from it and from PUBLIC (PostgreSQL 15 no longer grants CREATE
on `public`; older clusters did). Publishing never changes those privileges again: inside the swap transaction it only
grants the reader USAGE and SELECT on the new schema (`grant_reader_access`), so the schema is readable the instant
it becomes `marts`. Schemas other than `public` have no PUBLIC usage by default, so the role reads nothing else.
Temporary tables stay allowed through PUBLIC's default TEMPORARY privilege: they are private to the session.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import connection as PgConnection

from orchestration.publish.pg_names import check_identifier


class ReaderRoleMissing(RuntimeError):
    """Publishing needs the reader (and, if configured, the activation) role provisioned first."""


@dataclass(frozen=True)
class ServingRoles:
    """Who may read a newly swapped-in schema: `reader` every table, `activation` (optional) only
    `activation_tables`."""

    reader: str
    activation: str = ""
    activation_tables: tuple[str, ...] = ()

    def validate(self, published: list[str]) -> None:
        """Refuse, before any side effect, an activation role without published audience tables to read."""
        check_identifier(self.reader, "reader role")
        if not self.activation:
            return
        check_identifier(self.activation, "activation role")
        unpublished = sorted(set(self.activation_tables) - set(published))
        if not self.activation_tables or unpublished:
            raise ValueError(
                f"activation role {self.activation!r} needs published audience tables to read, got "
                f"{sorted(self.activation_tables)} (not published: {unpublished})"
            )

    def grant(self, conn: PgConnection, schema: str) -> None:
        grant_reader_access(conn, self.reader, schema)
        if self.activation:
            grant_activation_access(conn, self.activation, schema, self.activation_tables)


def provision_reader_role(dsn: str, role: str) -> None:
    """Create (if missing) the SELECT-only login role `role` in the cluster and set up its privileges in the database
    `dsn` names. Idempotent; run once per database, as a role that may create roles and revoke privileges."""
    check_identifier(role, "reader role")
    role_id = sql.Identifier(role)
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            found = _role_flags(cur, role)
            if found is None:
                cur.execute(
                    sql.SQL(
                        "create role {} login nosuperuser nocreatedb nocreaterole noreplication nobypassrls"
                    ).format(role_id)
                )
            cur.execute("select current_database()")
            database = sql.Identifier(cur.fetchone()[0])
            cur.execute(sql.SQL("grant connect on database {} to {}").format(database, role_id))
            cur.execute(sql.SQL("revoke create on database {} from {}").format(database, role_id))
            cur.execute(sql.SQL("revoke create on database {} from public").format(database))
            cur.execute("select count(*) = 1 from pg_namespace where nspname = 'public'")
            if cur.fetchone()[0]:
                cur.execute(sql.SQL("revoke create on schema public from {}").format(role_id))
                cur.execute("revoke create on schema public from public")
    finally:
        conn.close()


def grant_reader_access(conn: PgConnection, role: str, schema: str) -> None:
    """USAGE on `schema` and SELECT on its tables, in the caller's transaction (the swap). The role must exist."""
    check_identifier(schema, "schema")
    with conn.cursor() as cur:
        _require_role(cur, role, "reader")
        cur.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(schema), sql.Identifier(role)))
        cur.execute(
            sql.SQL("grant select on all tables in schema {} to {}").format(
                sql.Identifier(schema), sql.Identifier(role)
            )
        )


def grant_activation_access(conn: PgConnection, role: str, schema: str, tables: tuple[str, ...]) -> None:
    """USAGE on `schema` and SELECT on `tables` only (the audiences), in the caller's transaction (the swap)."""
    check_identifier(schema, "schema")
    with conn.cursor() as cur:
        _require_role(cur, role, "activation")
        cur.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(schema), sql.Identifier(role)))
        for table in tables:
            check_identifier(table, "activation table")
            cur.execute(
                sql.SQL("grant select on table {} to {}").format(sql.Identifier(schema, table), sql.Identifier(role))
            )


def _require_role(cur, role: str, kind: str) -> None:
    check_identifier(role, f"{kind} role")
    if _role_flags(cur, role) is None:
        raise ReaderRoleMissing(
            f"{kind} role {role!r} does not exist: run `c360 postgres provision --{kind}-role {role}` once "
            "against this database"
        )


def _role_flags(cur, role: str) -> tuple[bool, bool] | None:
    """(superuser, bypasses RLS) of `role`, None if it does not exist; refuses a role that would read every schema."""
    cur.execute("select rolsuper, rolbypassrls from pg_roles where rolname = %s", (role,))
    found = cur.fetchone()
    if found is not None and (found[0] or found[1]):
        raise ValueError(f"reader role {role!r} is a superuser or bypasses RLS: it would read every schema")
    return found
