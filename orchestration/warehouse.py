"""The one place that opens DuckDB: the build warehouse, the published file, and scratch in-memory databases.

Why one place: connection settings (memory_limit, threads, spill directory) come from Settings and apply to every
heavy reader and writer the same way; read-only opens of the published file are hardened the way a BI tool should
open it (no external file access). Nothing else in the project calls `duckdb.connect` (tests/test_imports.py checks).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:  # only for annotations: config reads the raw contract, which computes with DuckDB
    from orchestration.config import Settings


def duckdb_config(settings: Settings) -> dict[str, str]:
    """DuckDB settings of a warehouse connection, from C360_DUCKDB_* (empty = DuckDB's own default)."""
    settings.duckdb_temp_dir.mkdir(parents=True, exist_ok=True)
    config = {"temp_directory": str(settings.duckdb_temp_dir)}
    if settings.duckdb_memory_limit:
        config["memory_limit"] = settings.duckdb_memory_limit
    if settings.duckdb_threads:
        config["threads"] = str(settings.duckdb_threads)
    return config


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
