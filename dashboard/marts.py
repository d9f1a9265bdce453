"""Read the published marts file the way BI tools must: read-only and without access to any other file.

The dashboard runs in its own environment (`.venv-dashboard`), so it does not import the pipeline; the connection
settings are the ones `orchestration.warehouse.connect_published` uses (README, "BI access"). Every query opens the
file anew, so a new publish (an atomic file replace) shows on the next page load; results are cached per file
version (inode + modification time), so reruns of a page while the file is unchanged cost nothing.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import duckdb
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]


class NoPublishedMarts(RuntimeError):
    """The published file is missing: nothing has been published in this data dir yet."""


def published_path() -> Path:
    """`$C360_DATA_DIR/published/marts.duckdb` (C360_DATA_DIR defaults to the repo's ./data, as for the pipeline)."""
    data_dir = Path(os.environ.get("C360_DATA_DIR") or REPO_ROOT / "data")
    return data_dir / "published" / "marts.duckdb"


def _file_version(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise NoPublishedMarts(
            f"no published marts at {path}: run `make demo` (or `c360 run`), or set C360_DATA_DIR"
        ) from None
    return stat.st_ino, stat.st_mtime_ns


@functools.lru_cache(maxsize=256)
def _cached_query(path: str, version: tuple[int, int], sql: str, params: tuple[object, ...]) -> pd.DataFrame:
    del version  # only part of the cache key
    con = duckdb.connect(path, read_only=True, config={"enable_external_access": False})
    try:
        return con.execute(sql, list(params)).df()
    finally:
        con.close()


def query(sql: str, *params: object) -> pd.DataFrame:
    """The result of one SQL statement over the published marts (a copy: callers may change it)."""
    path = published_path()
    return _cached_query(str(path), _file_version(path), sql, params).copy()


def publish_details() -> dict[str, object]:
    """What `_publish_log` says about the live file: as-of date, data interval, checks (plus published_at)."""
    row = query("select published_at, details from _publish_log").iloc[0]
    details = json.loads(row["details"]) if isinstance(row["details"], str) else dict(row["details"])
    return {**details, "published_at": row["published_at"]}
