"""The one place that opens DuckDB: the build warehouse, the published file, and scratch in-memory databases.

Why one place: connection settings (memory_limit, threads, spill directory) come from Settings and apply to every
heavy reader and writer the same way; read-only opens of the published file are hardened the way a BI tool should
open it (no external file access). Nothing else in the project calls `duckdb.connect` (tests/test_imports.py checks).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from orchestration.data_dir import PRIVATE_FILE_MODE, ensure_data_dir

if TYPE_CHECKING:  # only for annotations: config reads the raw contract, which computes with DuckDB
    from orchestration.config import Settings


def duckdb_config(settings: Settings) -> dict[str, str]:
    """DuckDB settings of a warehouse connection, from C360_DUCKDB_* (empty = DuckDB's own default); the spill
    directory is created (privately) here."""
    ensure_data_dir(settings)
    settings.duckdb_temp_dir.mkdir(parents=True, exist_ok=True)
    return declared_duckdb_config(settings)


def declared_duckdb_config(settings: Settings) -> dict[str, str]:
    """duckdb_config without touching the disk: for a client that opens its connections later (dlt)."""
    # preserve_insertion_order off: DuckDB's documented remedy for large CREATE TABLE AS / COPY under a memory limit
    # (it need not buffer rows to keep their order); no model or reader relies on the order of an unordered table.
    config = {"temp_directory": str(settings.duckdb_temp_dir), "preserve_insertion_order": "false"}
    if settings.duckdb_memory_limit:
        config["memory_limit"] = settings.duckdb_memory_limit
    if settings.duckdb_threads:
        config["threads"] = str(settings.duckdb_threads)
    return config


def sql_ident(name: str) -> str:
    """A DuckDB (and PostgreSQL) quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    """A quoted string literal, for statements that take no parameters (COMMENT ON, ATTACH)."""
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def connect_file(
    path: Path, *, read_only: bool = False, config: dict[str, str] | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the DuckDB file at `path`, closed on exit. Callers holding Settings use connect_warehouse."""
    with duckdb.connect(str(path), read_only=read_only, config=config or {}) as con:
        yield con


@contextmanager
def connect_warehouse(settings: Settings, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """The build warehouse ($C360_DATA_DIR/warehouse.duckdb) with the configured memory, threads and spill dir."""
    with connect_file(settings.warehouse_path, read_only=read_only, config=duckdb_config(settings)) as con:
        yield con


@contextmanager
def connect_published(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The published marts file opened as BI tools should: read-only and without access to other files."""
    with connect_file(path, read_only=True, config={"enable_external_access": "false"}) as con:
        yield con


@contextmanager
def connect_scratch(config: dict[str, str] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory database: for computing over Arrow data, or for ATTACHing files to copy between them."""
    with duckdb.connect(config=config or {}) as con:
        yield con


def rewrite_file(path: Path, config: dict[str, str] | None = None) -> int:
    """Rewrite the DuckDB file at `path` into a fresh file and swap it in; returns the bytes it shrank by.

    Why: DuckDB does not erase what DELETE removes. CHECKPOINT folds the WAL in, but deleted rows stay in their row
    groups (marked deleted) or in freed blocks until something overwrites them, so the bytes are still in the
    file. Copying every object (schemas, tables, views, sequences, macros, constraints) into a new file leaves them
    behind. Needs the file to be free (no other connection); cost grows with the file's size.
    """
    with duckdb.connect(str(path), config=config or {}) as con:
        con.execute("checkpoint")  # folds and removes the WAL: a stale WAL must never meet the new file
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        raise RuntimeError(f"{wal} is still there after a checkpoint: another process has {path} open")
    fresh = path.with_name(f".{path.name}.rewrite.tmp")
    fresh.unlink(missing_ok=True)
    name = path.stem  # views name their catalog (dbt writes "warehouse"."staging"...): keep the name they bind to
    try:
        with duckdb.connect(config=config or {}) as con:
            con.execute(f"attach '{path}' as \"{name}\" (read_only)")
            con.execute(f"attach '{fresh}' as rewritten")
            con.execute(f'copy from database "{name}" to rewritten')
            con.execute("checkpoint rewritten")
            con.execute("detach rewritten")
            con.execute(f'detach "{name}"')
        os.chmod(fresh, PRIVATE_FILE_MODE)
        with open(fresh, "rb") as handle:
            os.fsync(handle.fileno())
        before = path.stat().st_size
        os.replace(fresh, path)
    finally:
        fresh.unlink(missing_ok=True)
        fresh.with_name(fresh.name + ".wal").unlink(missing_ok=True)
    return before - path.stat().st_size
