"""dlt sources that land a source's deliveries into the DuckDB `raw` schema.

Every source (`synthetic` Parquet, `files` vendor exports, ...) is read into a `Delivery` by `read_delivery`, then
passes the same quarantine rules (orchestration/extract/quarantine.py); dlt resources yield the loadable rows as
Arrow tables. Each row gets `_load_id` and `_loaded_at` so a gate can validate exactly the batch just loaded. Tables
merge on their primary key, so loading the same batch twice leaves the same rows and a re-delivered row updates in
place.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import dlt
import pyarrow as pa
from dlt.extract.resource import DltResource

from orchestration.extract.quarantine import split
from orchestration.sources.delivery import Delivery, Reject, with_lineage
from orchestration.sources.landing import read_table
from orchestration.sources.registry import RawTable, tables_of


@dataclass
class TableOutcome:
    """What one table's extract read, for the ledger and the quarantine: extracted = loaded + len(rejects)."""

    extracted: int = 0
    rejects: list[Reject] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)


def _synthetic_delivery(landing_dir: Path, spec: RawTable) -> Delivery:
    return Delivery(with_lineage(read_table(landing_dir, spec.name), f"{spec.name}.parquet"))


def read_delivery(source: str, landing_dir: Path, spec: RawTable) -> Delivery:
    """The one source dispatch: C360_SOURCE -> the reader of that landing folder."""
    if source == "synthetic":
        return _synthetic_delivery(landing_dir, spec)
    if source == "files":
        from orchestration.sources.files import read_files_delivery

        return read_files_delivery(landing_dir, spec)
    raise ValueError(f"unknown C360_SOURCE {source!r}: expected synthetic or files")


def _with_load_columns(table: pa.Table, spec: RawTable, load_id: str, loaded_at: datetime) -> pa.Table:
    n = table.num_rows
    table = table.append_column("_load_id", pa.array([load_id] * n, pa.string()))
    table = table.append_column("_loaded_at", pa.array([loaded_at] * n, pa.timestamp("us", tz="UTC")))
    # Key columns without nulls are declared non-nullable, matching dlt's primary-key hint.
    schema = table.schema
    for column in spec.primary_key:
        i = schema.get_field_index(column)
        if i >= 0 and table[column].null_count == 0:
            schema = schema.set(i, schema.field(i).with_nullable(False))
    return table.cast(schema)


def _raw_resource(
    spec: RawTable,
    delivery_source: str,
    landing_dir: Path | None,
    load_id: str,
    loaded_at: datetime | None,
    outcomes: dict[str, TableOutcome],
) -> DltResource:
    def rows() -> Iterator[pa.Table]:
        assert landing_dir is not None and loaded_at is not None, "source built without a landing folder"
        delivery = read_delivery(delivery_source, landing_dir, spec)
        good, rejects = split(delivery, spec)
        outcomes[spec.name] = TableOutcome(delivery.rows_read, rejects, dict(delivery.notes))
        yield _with_load_columns(good, spec, load_id, loaded_at)

    return dlt.resource(rows, name=spec.name, primary_key=list(spec.primary_key), write_disposition="merge")


def raw_source(
    source: str,
    landing_dir: Path | None = None,
    load_id: str = "",
    loaded_at: datetime | None = None,
    outcomes: dict[str, TableOutcome] | None = None,
    delivery_source: str = "synthetic",
):
    """The dlt source for one source system (crm, ga4, ads); called without a folder it only describes the tables
    (for Dagster). `outcomes` receives per table what was read and rejected, for the ledger and the quarantine."""
    found = {} if outcomes is None else outcomes

    @dlt.source(name=source, max_table_nesting=0)
    def _source() -> list[DltResource]:
        return [
            _raw_resource(spec, delivery_source, landing_dir, load_id, loaded_at, found) for spec in tables_of(source)
        ]

    return _source()
