"""The one path from any source's rows to raw: quarantine rules, the ledger's counts and the load columns.

Every source (the `synthetic` Parquet, the `files` vendor exports, each chunk of the `postgres` CRM read) hands its
rows as a `Delivery` to `admit`; dlt_sources.py and crm_postgres_source.py both build on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

import pyarrow as pa

from orchestration.extract.delivery import Delivery, Reject
from orchestration.extract.fx_rates import FxCoverage
from orchestration.extract.quarantine import split
from orchestration.extract.raw_contract import RawTable
from orchestration.privacy.erasure_ledger import ErasedSubjects

#: Asset metadata / ledger note: delivered rows of erased people, dropped before quarantine and raw (not extracted).
SUPPRESSED_BY_ERASURE = "rows_suppressed_by_erasure"

#: How a load relates to the source's data, recorded in the ledger and judged by the gates (quality/gate.py).
SNAPSHOT = "snapshot"  # an export the source delivered (a whole table, or a day's file): empty means it broke
DELTA = "delta"  # rows changed since the cursor of the last read: empty means nothing changed
ABSENT = "absent"  # the source has no file for this (optional) table: zero rows, judged as "not delivered"


@dataclass
class TableOutcome:
    """What one table's extract read, for the ledger and the quarantine: extracted = loaded + len(rejects)."""

    extracted: int = 0
    rejects: list[Reject] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)
    delivery: str = SNAPSHOT


def admit(
    delivery: Delivery,
    spec: RawTable,
    load_id: str,
    loaded_at: datetime,
    outcome: TableOutcome,
    fx: FxCoverage,
    erased: ErasedSubjects | None = None,
) -> pa.Table:
    """The shared path from a source's rows to raw: erased people's rows dropped (the erasure ledger), quarantine
    rules, the ledger's counts, the load columns. Called once per file delivery, or once per chunk of a database
    read (the outcome accumulates). Erased rows go first, so not even a bad one of theirs reaches the quarantine."""
    if erased is not None:
        kept, suppressed = erased.suppress(spec.name, delivery.table)
        rejects, suppressed_rejects = erased.suppress_rejects(spec.name, delivery.rejects)
        suppressed += suppressed_rejects
        if suppressed:
            delivery = replace(delivery, table=kept, rejects=rejects)
            outcome.notes[SUPPRESSED_BY_ERASURE] = outcome.notes.get(SUPPRESSED_BY_ERASURE, 0) + suppressed
    good, rejects = split(delivery, spec, fx)
    outcome.extracted += delivery.rows_read
    outcome.rejects.extend(rejects)
    for note, count in delivery.notes.items():
        outcome.notes[note] = outcome.notes.get(note, 0) + count
    return _with_load_columns(good, spec, load_id, loaded_at)


def _with_load_columns(table: pa.Table, spec: RawTable, load_id: str, loaded_at: datetime) -> pa.Table:
    n = table.num_rows  # pa.repeat, not a Python list of n values: ~1.5 s for GA4's 4.6M events at M
    table = table.append_column("_load_id", pa.repeat(pa.scalar(load_id, pa.string()), n))
    table = table.append_column("_loaded_at", pa.repeat(pa.scalar(loaded_at, pa.timestamp("us", tz="UTC")), n))
    # Key columns without nulls are declared non-nullable, matching dlt's primary-key hint.
    schema = table.schema
    for column in spec.primary_key:
        i = schema.get_field_index(column)
        if i >= 0 and table[column].null_count == 0:
            schema = schema.set(i, schema.field(i).with_nullable(False))
    return table.cast(schema)
