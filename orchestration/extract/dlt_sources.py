"""dlt sources that land the landing folder's tables into the DuckDB `raw` schema.

Each row gets `_load_id` and `_loaded_at` so a gate can validate exactly the batch just loaded. Tables merge on their
primary key, so loading the same batch twice leaves the same rows and a re-delivered row updates in place.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import dlt
import pyarrow as pa
from dlt.extract.resource import DltResource

from orchestration.sources.landing import read_table
from orchestration.sources.registry import RawTable, tables_of


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
    spec: RawTable, landing_dir: Path | None, load_id: str, loaded_at: datetime | None, extracted: dict[str, int]
) -> DltResource:
    def rows() -> Iterator[pa.Table]:
        assert landing_dir is not None and loaded_at is not None, "source built without a landing folder"
        table = read_table(landing_dir, spec.name)
        extracted[spec.name] = extracted.get(spec.name, 0) + table.num_rows
        yield _with_load_columns(table, spec, load_id, loaded_at)

    return dlt.resource(rows, name=spec.name, primary_key=list(spec.primary_key), write_disposition="merge")


def raw_source(
    source: str,
    landing_dir: Path | None = None,
    load_id: str = "",
    loaded_at: datetime | None = None,
    extracted: dict[str, int] | None = None,
):
    """The dlt source for one source system; called without a folder it only describes the tables (for Dagster).

    `extracted` receives the number of rows read per table, for the load ledger.
    """
    counts = {} if extracted is None else extracted

    @dlt.source(name=source, max_table_nesting=0)
    def _source() -> list[DltResource]:
        return [_raw_resource(spec, landing_dir, load_id, loaded_at, counts) for spec in tables_of(source)]

    return _source()
