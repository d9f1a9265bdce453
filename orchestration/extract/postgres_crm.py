"""The `postgres` CRM source: dlt's `sql_database` reading schema `crm` incrementally on `updated_at`.

Each table is read with `updated_at >= cursor` (dlt keeps the cursor in the pipeline state, stored in the pipelines
dir and in the destination's `_dlt_pipeline_state`), so a run reads only rows inserted or updated since the last
one. Rows whose `updated_at` equals the stored cursor are read again and dropped if dlt already loaded them; dlt
recognises them by a hash of the whole contract row, so a row updated again within the same cursor value (same
timestamp) is not mistaken for one already loaded. Batches are cast to the raw contract's types and get the same
`_load_id` / `_loaded_at` as the other sources; tables merge on the contract primary key.
"""

from __future__ import annotations

from datetime import datetime

import dlt
import pyarrow as pa
from dlt.extract.items_transform import MapItem
from dlt.extract.resource import DltResource
from dlt.sources.sql_database import remove_nullability_adapter, sql_database
from sqlalchemy import exc as sa_exc

from orchestration.extract.dlt_sources import _with_load_columns
from orchestration.sources.postgres_crm import CRM_SCHEMA, CRM_SOURCE, CURSOR_COLUMN, sqlalchemy_url
from orchestration.sources.registry import RawTable, tables_of

#: Arrow batch size read from Postgres; bounds memory whatever the table size.
CHUNK_ROWS = 50_000


class CrmSchemaError(RuntimeError):
    """The operational CRM does not provide a contract table or column, or a column cannot be cast to its type."""


def conform(batch: pa.Table, spec: RawTable) -> pa.Table:
    """Contract columns first, in contract order, with contract types; extra columns are kept after them."""
    missing = [name for name in spec.schema.names if name not in batch.column_names]
    if missing:
        raise CrmSchemaError(f"{CRM_SCHEMA}.{spec.name} lacks contract column(s): {', '.join(missing)}")
    extra = [name for name in batch.column_names if name not in spec.schema.names]
    columns = []
    for field in spec.schema:
        try:
            columns.append(_cast(batch[field.name], field.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise CrmSchemaError(
                f"{CRM_SCHEMA}.{spec.name}.{field.name}: {batch[field.name].type} does not cast to {field.type} ({exc})"
            ) from exc
    names = [*spec.schema.names, *extra]
    return pa.Table.from_arrays([*columns, *(batch[name] for name in extra)], names=names)


def _cast(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    if pa.types.is_decimal(column.type) and pa.types.is_floating(target):
        # Arrow divides by 10**scale in floating point (NUMERIC 42.73 -> 42.730000000000004); parsing the decimal's
        # text gives the nearest double, the same value the other sources deliver.
        column = column.cast(pa.string())
    return column.cast(target)


class _AfterIncremental(MapItem):
    """A map step that runs after dlt's incremental filter (affinity 1) so it sees only rows that will load; a plain
    `add_map` step (affinity 0) would run before it and count rows the boundary dedup then drops."""

    placement_affinity = 1.05


def _configure(resource: DltResource, spec: RawTable, load_id: str, loaded_at: datetime, extracted: dict[str, int]):
    def stamp(batch: pa.Table) -> pa.Table:
        extracted[spec.name] = extracted.get(spec.name, 0) + batch.num_rows
        return _with_load_columns(conform(batch, spec), spec, load_id, loaded_at)

    resource.apply_hints(
        write_disposition="merge",
        primary_key=list(spec.primary_key),
        # Boundary dedup on the whole row, not the key: a re-update within the same timestamp must load again.
        incremental=dlt.sources.incremental(CURSOR_COLUMN, primary_key=tuple(spec.schema.names)),
    )
    return resource.add_step(_AfterIncremental(stamp))


def crm_postgres_source(url: str, load_id: str, loaded_at: datetime, extracted: dict[str, int]):
    """The `crm` dlt source over the operational Postgres at `url`; `extracted` receives rows read per table."""
    if not url:
        raise CrmSchemaError("C360_SOURCE=postgres reads the CRM from C360_CRM_POSTGRES_URL, which is not set")
    specs = {spec.name: spec for spec in tables_of(CRM_SOURCE)}
    try:
        source = sql_database.clone(name=CRM_SOURCE, max_table_nesting=0)(
            credentials=sqlalchemy_url(url),
            schema=CRM_SCHEMA,
            table_names=list(specs),
            backend="pyarrow",
            chunk_size=CHUNK_ROWS,
            detect_precision_hints=None,  # deprecated in favour of reflection_level; None silences its warning
            reflection_level="minimal",  # types come from the data and are cast to the contract in `conform`
            table_adapter_callback=remove_nullability_adapter,  # raw columns stay nullable, as from other sources
            engine_kwargs={"connect_args": {"options": "-c timezone=UTC"}},
        )
    except sa_exc.InvalidRequestError as exc:  # a table is missing: name which
        raise CrmSchemaError(f"the CRM database lacks contract table(s) in schema {CRM_SCHEMA!r}: {exc}") from exc
    for name, spec in specs.items():
        _configure(source.resources[name], spec, load_id, loaded_at, extracted)
    return source
