"""Reads the landing folder of the embedded source: one Parquet file per raw table and `_manifest.json` (the data's
end date, the default as-of date). simulator/landing_writer.py writes it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.extract.delivery import one_line

MANIFEST = "_manifest.json"


class LandingError(RuntimeError):
    """The landing folder is missing, incomplete or unreadable."""


def read_manifest(landing_dir: Path) -> dict[str, object]:
    path = landing_dir / MANIFEST
    if not path.exists():
        raise LandingError(
            f"{path} not found: generate data first (`c360 generate`) or point C360_DATA_DIR at a landing folder"
        )
    return json.loads(path.read_text())


def table_path(landing_dir: Path, name: str) -> Path:
    """The file of raw table `name`; it must exist."""
    path = landing_dir / f"{name}.parquet"
    if not path.exists():
        raise LandingError(f"{path} not found: the landing folder has no file for raw table {name!r}")
    return path


def parquet_columns(path: Path) -> list[str]:
    """The file's column names, from its footer; an unreadable file fails naming it."""
    try:
        return pq.ParquetFile(path).schema_arrow.names
    except (pa.ArrowInvalid, OSError) as exc:
        raise LandingError(f"{path}: cannot be read as Parquet ({one_line(exc)})") from exc


def read_batches(path: Path, batch_rows: int) -> Iterator[pa.Table]:
    """The file in order, at most `batch_rows` rows at a time (at least one, possibly empty, table): memory is bounded
    by the batch, not the file. An unreadable file fails naming it, on whichever batch it breaks."""
    try:
        parquet = pq.ParquetFile(path)
        schema = parquet.schema_arrow
        empty = True
        for batch in parquet.iter_batches(batch_size=batch_rows):
            empty = False
            yield pa.Table.from_batches([batch], schema)
        if empty:
            yield schema.empty_table()
    except (pa.ArrowInvalid, OSError) as exc:
        raise LandingError(f"{path}: cannot be read as Parquet ({one_line(exc)})") from exc
