"""dlt sources that land a source's deliveries into the DuckDB `raw` schema.

Every source (`synthetic` Parquet, `files` vendor exports, the `postgres` CRM database) hands its rows as `Delivery`
batches to `admit`, which applies the same quarantine rules (orchestration/extract/quarantine.py) and counts them for
the ledger; dlt resources yield the loadable rows as Arrow tables. Vendor exports are read whole by `read_delivery`; the
database is read by dlt's `sql_database` in chunks, each admitted after dlt's incremental filter. Parquet deliveries
are read in bounded batches, so a file larger than memory loads. Each row gets
`_load_id` and `_loaded_at` so a gate can validate exactly the batch just loaded. Tables merge on their primary key,
so loading the same batch twice leaves the same rows and a re-delivered row updates in place.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path

import dlt
import duckdb
import pyarrow as pa
from dlt.extract.resource import DltResource

from orchestration.config import Settings
from orchestration.extract.admission import ABSENT, DELTA, SNAPSHOT, TableOutcome, admit
from orchestration.extract.crm_postgres_source import crm_postgres_source
from orchestration.extract.delivery import Delivery, not_delivered, with_lineage
from orchestration.extract.fx_rates import FxCoverage
from orchestration.extract.landing import read_batches, table_path
from orchestration.extract.raw_contract import RawTable, raw_table, tables_of
from orchestration.extract.supersession import superseded_in_parquet
from orchestration.extract.vendor_files import read_files_delivery
from orchestration.extract.vendor_files.export_reader import delivery_problems as files_problems
from orchestration.extract.vendor_files.export_reader import pattern
from orchestration.extract.vendor_files.mappings import file_spec
from orchestration.privacy.erasure_ledger import ErasedSubjects

#: Rows per batch of a Parquet delivery (C360_EXTRACT_BATCH_ROWS): the extract's memory grows with this, not the file.
BATCH_ROWS = 500_000
#: C360_SOURCE -> the dlt source systems it reads from a database with an incremental cursor (not from files).
DATABASE_SOURCES: dict[str, tuple[str, ...]] = {"postgres": ("crm",)}


def _parquet_delivery(
    landing_dir: Path,
    spec: RawTable,
    required: tuple[str, ...],
    batch_rows: int,
    duckdb_settings: dict[str, str] | None,
) -> Iterator[Delivery]:
    """The table's Parquet file in batches of at most `batch_rows` rows, each carrying the file's superseded rows
    (found first, by DuckDB over the key columns), so no batch needs the whole file in memory."""
    if not (landing_dir / f"{spec.name}.parquet").exists() and spec.name not in required:
        yield not_delivered(spec.schema)
        return
    path = table_path(landing_dir, spec.name)
    superseded = superseded_in_parquet(path, path.name, list(spec.primary_key), duckdb_settings)
    first_row = 1
    for batch in read_batches(path, batch_rows):
        yield Delivery(with_lineage(batch, path.name, first_row), superseded=superseded)
        first_row += batch.num_rows


def reads_database(delivery_source: str, source: str) -> bool:
    return source in DATABASE_SOURCES.get(delivery_source, ())


def read_delivery(
    source: str,
    landing_dir: Path,
    spec: RawTable,
    required: tuple[str, ...] = (),
    skip: frozenset[str] = frozenset(),
    batch_rows: int = BATCH_ROWS,
    duckdb_settings: dict[str, str] | None = None,
) -> Iterator[Delivery]:
    """The one source dispatch for file deliveries: C360_SOURCE -> the reader of that landing folder, as batches to
    admit one by one. With `postgres`, the tables not read from the database (web, ads) are Parquet files as for
    `synthetic`; Parquet is read `batch_rows` rows at a time (`duckdb_settings`: those of the DuckDB query over
    its keys), vendor exports (`files`) whole. A table the folder has no file for is not delivered (zero rows),
    unless it is `required`. `files` skips the file versions in `skip` (already loaded:
    landing_files.loaded_versions)."""
    if reads_database(source, spec.source):
        raise ValueError(f"raw.{spec.name} comes from the {source} database, read by dlt (see raw_source)")
    if source in ("synthetic", "postgres"):
        return _parquet_delivery(landing_dir, spec, required, batch_rows, duckdb_settings)
    if source == "files":
        return iter([read_files_delivery(landing_dir, spec, required, skip=skip)])
    raise ValueError(f"unknown C360_SOURCE {source!r}: expected synthetic, files or postgres")


def expected_location(settings: Settings, table: str) -> str:
    """Where the configured source reads a raw table from, for messages that name the fix."""
    spec = raw_table(table)
    if reads_database(settings.source, spec.source):
        return f"table crm.{table} in the {settings.source} database"
    if settings.source == "files":
        return str(settings.landing_dir / pattern(file_spec(table)))
    return str(settings.landing_dir / f"{table}.parquet")


def delivery_problems(settings: Settings, already_read: Mapping[str, frozenset[str]] | None = None) -> list[str]:
    """Everything that stops this delivery from loading, found in one pass before any table loads: required tables
    without a file, unreadable files, required columns missing (files source: the header of every file but those in
    `already_read`, the versions a kept load read)."""
    if settings.source == "files":
        return files_problems(settings.landing_dir, settings.required_tables, already_read)
    return [
        f"{settings.landing_dir / f'{name}.parquet'}: no file for required raw table {name}; deliver it, or drop "
        f"{name} from C360_REQUIRED_TABLES"
        for name in settings.required_tables
        if not reads_database(settings.source, raw_table(name).source)
        and not (settings.landing_dir / f"{name}.parquet").exists()
    ]


def describe_origin(source: str, settings: Settings) -> str:
    """Where a source system's rows come from, for the run log."""
    if reads_database(settings.source, source):
        return f"the {settings.source} database (rows changed since the last load)"
    return f"{settings.landing_dir} ({settings.source})"


def empty_raw_tables(con: duckdb.DuckDBPyConnection, schema: str, names: list[str]) -> frozenset[str]:
    """The raw tables among `names` that do not exist or hold no row: a load into one of them appends."""
    existing = {
        table
        for (table,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = ? and table_name in (select unnest(?))",
            [schema, names],
        ).fetchall()
    }
    return frozenset(
        name
        for name in names
        if name not in existing or con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0] == 0
    )


def _raw_resource(
    spec: RawTable,
    delivery_source: str,
    landing_dir: Path | None,
    load_id: str,
    loaded_at: datetime | None,
    outcomes: dict[str, TableOutcome],
    required: tuple[str, ...],
    fx: FxCoverage | None,
    erased: ErasedSubjects | None,
    skip: frozenset[str],
    empty: bool,
    batch_rows: int,
    duckdb_settings: dict[str, str] | None,
) -> DltResource:
    def rows() -> Iterator[pa.Table]:
        assert landing_dir is not None and loaded_at is not None and fx is not None, "source built without a load"
        outcome = outcomes[spec.name] = TableOutcome()
        for delivery in read_delivery(delivery_source, landing_dir, spec, required, skip, batch_rows, duckdb_settings):
            outcome.delivery = DELTA if delivery.new_files_only else SNAPSHOT if delivery.delivered else ABSENT
            yield admit(delivery, spec, load_id, loaded_at, outcome, fx, erased)

    # Upsert (one MERGE on the key), not dlt's default delete-insert (a delete, then an insert that de-duplicates the
    # batch with a window over every row): admission already leaves one row per key (the later row wins, the earlier
    # is quarantined), so the windowed de-duplication had nothing to do. The synthetic M extract 36-41 s -> 25-27 s.
    # Into an empty table (a first load) that MERGE equals an append, which dlt copies straight into the table
    # without its staging copy: the first M load's extract 26.8 s -> 20.7-21.0 s (two interleaved runs each).
    merge = {"disposition": "merge", "strategy": "upsert"}
    disposition = "append" if empty else merge
    return dlt.resource(rows, name=spec.name, primary_key=list(spec.primary_key), write_disposition=disposition)


def raw_source(
    source: str,
    landing_dir: Path | None = None,
    load_id: str = "",
    loaded_at: datetime | None = None,
    outcomes: dict[str, TableOutcome] | None = None,
    delivery_source: str = "synthetic",
    database_url: str = "",
    required: tuple[str, ...] = (),
    fx: FxCoverage | None = None,
    erased: ErasedSubjects | None = None,
    skip: Mapping[str, frozenset[str]] | None = None,
    empty: frozenset[str] = frozenset(),
    batch_rows: int = BATCH_ROWS,
    duckdb_settings: dict[str, str] | None = None,
):
    """The dlt source for one source system (crm, ga4, ads); called without a folder it only describes the tables
    (for Dagster). `outcomes` receives per table what was read and rejected, for the ledger and the quarantine;
    `fx` is the run's FX coverage for the quarantine's currency rules (required with a folder); `erased` the
    erasure ledger's people, whose delivered rows are dropped; `skip` per table the file versions not to read again;
    `empty` the tables holding no row yet (empty_raw_tables), which the load appends to; `batch_rows` the rows per
    batch of a Parquet delivery; `duckdb_settings` those of DuckDB queries over a delivery (warehouse.duckdb_config).
    A source system that C360_SOURCE reads from a database (DATABASE_SOURCES) is read with dlt's sql_database at
    `database_url`, its chunks admitted like file deliveries. Tables not in `required` may be absent: zero rows."""
    found = {} if outcomes is None else outcomes
    if landing_dir is not None and reads_database(delivery_source, source):
        assert loaded_at is not None and fx is not None
        return crm_postgres_source(database_url, load_id, loaded_at, found, fx, required, erased)

    @dlt.source(name=source, max_table_nesting=0)
    def _source() -> list[DltResource]:
        return [
            _raw_resource(
                spec,
                delivery_source,
                landing_dir,
                load_id,
                loaded_at,
                found,
                required,
                fx,
                erased,
                (skip or {}).get(spec.name, frozenset()),
                spec.name in empty,
                batch_rows,
                duckdb_settings,
            )
            for spec in tables_of(source)
        ]

    return _source()
