"""Landing folder for the embedded source: one Parquet file per raw table, written atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

MANIFEST = "_manifest.json"


class LandingError(RuntimeError):
    """The landing folder is missing, incomplete or unreadable."""


def write_tables(tables: dict[str, pa.Table], out_dir: Path, metadata: dict[str, object]) -> Path:
    """Write each table as `<name>.parquet` plus a manifest; a reader never sees a half-written file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        tmp = out_dir / f".{name}.parquet.tmp"
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, out_dir / f"{name}.parquet")
    return write_manifest(tables, out_dir, metadata)


def write_manifest(tables: dict[str, pa.Table], out_dir: Path, metadata: dict[str, object]) -> Path:
    """`_manifest.json`: the generator's parameters (its end date is the default as-of date) and row counts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = {**metadata, "tables": {name: table.num_rows for name, table in tables.items()}}
    tmp = out_dir / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))
    os.replace(tmp, out_dir / MANIFEST)
    return out_dir


def read_manifest(landing_dir: Path) -> dict[str, object]:
    path = landing_dir / MANIFEST
    if not path.exists():
        raise LandingError(
            f"{path} not found: generate data first (`c360 generate`) or point C360_DATA_DIR at a landing folder"
        )
    return json.loads(path.read_text())


def read_table(landing_dir: Path, name: str) -> pa.Table:
    path = landing_dir / f"{name}.parquet"
    if not path.exists():
        raise LandingError(f"{path} not found: the landing folder has no file for raw table {name!r}")
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise LandingError(f"{path}: cannot be read as Parquet ({exc})") from exc
