"""Reads the landing folder of the embedded source: one Parquet file per raw table and `_manifest.json` (the data's
end date, the default as-of date). simulator/landing_writer.py writes it."""

from __future__ import annotations

import json
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


def read_table(landing_dir: Path, name: str) -> pa.Table:
    path = landing_dir / f"{name}.parquet"
    if not path.exists():
        raise LandingError(f"{path} not found: the landing folder has no file for raw table {name!r}")
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise LandingError(f"{path}: cannot be read as Parquet ({one_line(exc)})") from exc
