"""Writes the embedded source's landing folder: one Parquet file per raw table plus `_manifest.json`, atomically.

The reader side (orchestration/extract/landing.py) owns the folder's shape; this is what the simulator delivers into it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.extract.landing import MANIFEST


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
