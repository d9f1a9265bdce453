"""Names on the PostgreSQL serving target: which identifiers are accepted, and how build/old schemas are named.

Every name the publisher puts into SQL passes through here first; Postgres silently truncates identifiers longer than
63 bytes, so longer ones are refused instead.
"""

from __future__ import annotations

import hashlib
import re

PUBLISH_LOG = "_publish_log"
BUILD_INFIX = "__build_"
OLD_INFIX = "__old_"
#: Postgres truncates identifiers longer than this many bytes (NAMEDATALEN - 1), silently: refuse them instead.
MAX_IDENTIFIER_BYTES = 63
SHORT_ID_CHARS = 12
#: Schemas we must never rename or drop.
RESERVED_SCHEMAS = frozenset({"public", "information_schema"})
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def validate_request(tables: list[tuple[str, str]], schema: str, reader_role: str) -> None:
    """Refuse bad input before any side effect: names end up as Postgres identifiers of bounded length."""
    if not tables:
        raise ValueError("no tables to publish")
    check_identifier(schema, "schema")
    check_identifier(reader_role, "reader role")
    if schema.lower() in RESERVED_SCHEMAS or schema.lower().startswith("pg_"):
        raise ValueError(f"schema {schema!r} is reserved")
    if len(schema) + len(BUILD_INFIX) + SHORT_ID_CHARS > MAX_IDENTIFIER_BYTES:
        raise ValueError(f"schema {schema!r} is too long to derive the build schema name")
    names = [table for _, table in tables]
    for source_schema, table in tables:
        check_identifier(source_schema, "source schema")
        check_identifier(table, "table")
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate table names: {sorted(names)}")
    if PUBLISH_LOG in names:
        raise ValueError(f"{PUBLISH_LOG} is written by the publisher itself")


def check_identifier(name: str, what: str) -> None:
    if not isinstance(name, str) or not _IDENTIFIER.match(name) or len(name) > MAX_IDENTIFIER_BYTES:
        raise ValueError(
            f"invalid {what} name {name!r}: use letters, digits and _ (at most 63), not starting with a digit"
        )


def short_id(run_id: str) -> str:
    """A schema-name-safe id: the run id's alphanumerics when it has enough (Dagster uuids), else a hash of it."""
    cleaned = re.sub(r"[^a-z0-9]", "", run_id.lower())
    if len(cleaned) >= 8:
        return cleaned[:SHORT_ID_CHARS]
    return hashlib.sha256(run_id.encode()).hexdigest()[:SHORT_ID_CHARS]
