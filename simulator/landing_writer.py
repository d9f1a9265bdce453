"""Writes the embedded source's landing folder: one Parquet file per raw table plus `_manifest.json`, atomically.

The reader side (orchestration/extract/landing.py) owns the folder's shape; this is what the simulator delivers into it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.extract.landing import MANIFEST


def write_tables(tables: dict[str, pa.Table], out_dir: Path, metadata: dict[str, object]) -> Path:
    """Write each table as `<name>.parquet` plus a manifest; a reader never sees a half-written file."""
    with appending_tables(out_dir) as append:
        for name, table in tables.items():
            append(name, table)
    return write_manifest({name: table.num_rows for name, table in tables.items()}, out_dir, metadata)


@contextmanager
def appending_tables(out_dir: Path) -> Iterator:
    """`append(name, table)` adds rows to `<name>.parquet` (row groups, never the whole file in memory); on a clean
    exit every file written is swapped in at once, so a reader never sees a half-written file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    writers: dict[str, pq.ParquetWriter] = {}

    def append(name: str, table: pa.Table) -> None:
        if name not in writers:
            writers[name] = pq.ParquetWriter(out_dir / f".{name}.parquet.tmp", table.schema, compression="zstd")
        writers[name].write_table(table)

    try:
        yield append
    finally:
        for writer in writers.values():
            writer.close()
    for name in writers:
        os.replace(out_dir / f".{name}.parquet.tmp", out_dir / f"{name}.parquet")


def write_manifest(rows: Mapping[str, int], out_dir: Path, metadata: dict[str, object]) -> Path:
    """`_manifest.json`: the generator's parameters (its end date is the default as-of date) and row counts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = {**metadata, "tables": dict(rows)}
    tmp = out_dir / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))
    os.replace(tmp, out_dir / MANIFEST)
    return out_dir
