"""Row rules every source's Arrow batch passes before loading, and the quarantine table the failures go to.

Quarantine is for a row that cannot be loaded or used: a required value or key missing, a value that does not parse
(reported by the source reader), a negative quantity, a time or date outside the calendar Python can hold, a
currency without an FX rate (unknown, or no rate on the row's date: see orchestration/extract/fx_rates.py; the run's
FxCoverage is passed in), or a key delivered again later in the same delivery (the later row wins, even one
quarantined itself; the earlier one is kept here, not folded away). Batch and statistical properties (volume,
duplicates across loads, freshness, rates) are the GX gates' job; the gate `quarantine_rate_within_threshold` stops a
mostly-bad delivery from publishing.

`audit.quarantine` is idempotent per content: a row's id hashes table, file, row number, record and reason, so the
same bad record delivered again updates its `_load_id`/`_loaded_at` (the latest load that brought it) instead of
adding a duplicate. The ledger keeps each load's own count (`audit.loads.rows_quarantined`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.extract.delivery import LINEAGE, SOURCE_FILE, SOURCE_ROW, Delivery, DeliveryError, Reject
from orchestration.extract.fx_rates import FxCoverage, missing_rates
from orchestration.extract.raw_contract import RawTable
from orchestration.extract.supersession import superseded_in_table

QUARANTINE = "audit.quarantine"
DDL = f"""
create schema if not exists audit;
create table if not exists {QUARANTINE} (
    quarantine_id varchar primary key,
    source varchar not null,
    raw_table varchar not null,
    file varchar not null,
    row_number bigint not null,
    column_name varchar not null,
    reason varchar not null,
    record varchar not null,
    _load_id varchar not null,
    _loaded_at timestamptz not null
)
"""
#: Currency column -> the date its amount converts on (UTC date; the reporting timezone defaults to UTC).
CURRENCY_COLUMNS = {
    "currency": "ordered_at",
    "customer_currency_code": "segments_date",
    "account_currency": "date_start",
}
NON_NEGATIVE_COLUMNS = ("quantity",)
#: The calendar every reader downstream (Python, pandas, GX) can hold; Parquet can carry times far outside it.
FIRST_DAY, LAST_DAY = date(1, 1, 2), date(9999, 12, 30)  # a day of margin for any timezone shift
UNKNOWN_CURRENCY = "unknown currency {value!r}: no FX rate (ECB reference rates or landing/fx_rates*.csv)"


def _missing_rate_reasons(table: pa.Table, currency_column: str, date_column: str, fx: FxCoverage) -> list[str | None]:
    return missing_rates(table[currency_column], table[date_column], fx.usable, fx.reporting_currency, fx.max_age_days)


def conform(table: pa.Table, raw: RawTable, where: str) -> pa.Table:
    """Contract columns first, in contract types; optional ones missing become null; extra columns are kept."""
    missing = [c for c in raw.required if c not in table.column_names]
    if missing:
        raise DeliveryError(f"{where}: required column(s) {', '.join(missing)} of raw.{raw.name} missing")
    columns = {}
    for column in raw.columns:
        if column.name not in table.column_names:
            columns[column.name] = pa.nulls(table.num_rows, column.type)
            continue
        try:
            columns[column.name] = table[column.name].cast(column.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise DeliveryError(f"{where}: column {column.name} is not {column.type} ({exc})") from exc
    for name in table.column_names:
        columns.setdefault(name, table[name])
    return pa.table(columns)


def _problems(table: pa.Table, raw: RawTable, fx: FxCoverage) -> list[tuple[str, pa.Array, str | list[str | None]]]:
    """(column, mask of failing rows, reason template with {value} or one reason per row) for each row rule."""
    rules = [(c, pc.is_null(table[c]), "required value missing") for c in raw.required]
    currencies = pa.array([c.upper() for c in fx.currencies], pa.string())
    for c, day in CURRENCY_COLUMNS.items():
        if c in table.column_names:
            code = pc.utf8_upper(pc.utf8_trim_whitespace(table[c]))
            unknown = pc.and_(pc.is_valid(code), pc.invert(pc.is_in(code, value_set=currencies)))
            rules.append((c, unknown, UNKNOWN_CURRENCY))
            if day in table.column_names and table.num_rows:
                known = pc.if_else(unknown, pa.scalar(None, pa.string()), code)
                reasons = _missing_rate_reasons(table.set_column(table.schema.get_field_index(c), c, known), c, day, fx)
                rules.append((c, pa.array([r is not None for r in reasons]), reasons))
    for c in table.column_names:
        kind = table[c].type
        if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
            first, last = (
                (datetime.combine(d, datetime.min.time(), UTC) for d in (FIRST_DAY, LAST_DAY))
                if pa.types.is_timestamp(kind)
                else (FIRST_DAY, LAST_DAY)
            )
            outside = pc.or_(pc.less(table[c], pa.scalar(first, kind)), pc.greater(table[c], pa.scalar(last, kind)))
            rules.append((c, pc.fill_null(outside, False), "out of the calendar: {value}"))
    for c in NON_NEGATIVE_COLUMNS:
        if c in table.column_names:
            rules.append((c, pc.fill_null(pc.less(table[c], 0), False), "negative quantity {value}"))
    return rules


def _reason(reason: str | list[str | None], value: object, i: int) -> str:
    return reason.format(value=value) if isinstance(reason, str) else str(reason[i])


def _record(row: dict) -> str:
    return json.dumps({k: v for k, v in row.items() if k not in LINEAGE}, default=str, sort_keys=True)


def split(delivery: Delivery, raw: RawTable, fx: FxCoverage) -> tuple[pa.Table, list[Reject]]:
    """The loadable rows (lineage dropped) and every reject: the reader's parse failures, these rules', and the rows
    a later row of the same key supersedes (orchestration/extract/supersession.py). `fx` is the run's FX coverage
    (FxCoverage.of its settings), read once per run, not per batch."""
    table = conform(delivery.table, raw, _origin(delivery.table, raw))
    rejects = list(delivery.rejects)
    bad = pa.repeat(pa.scalar(False), table.num_rows)  # typed: a zero-row delivery is valid input
    rules = _problems(table, raw, fx)
    for _, mask, _ in rules:
        bad = pc.or_(bad, mask)
    bad_rows = pc.indices_nonzero(bad)
    # Each rule's verdict on the bad rows only: the masks of every row as Python lists cost seconds at M.
    masks = [(c, pc.take(m, bad_rows).to_pylist(), reason) for c, m, reason in rules]
    for j, i in enumerate(bad_rows.to_pylist()):
        row = _python_row(table, i)
        hits = [
            (c, reason.format(value=row[c]) if isinstance(reason, str) else reason[i]) for c, m, reason in masks if m[j]
        ]
        rejects.append(_reject(row, hits))
    keys = list(raw.primary_key)
    superseded = delivery.superseded or superseded_in_table(table, keys)
    lost = superseded.mask(table) & ~bad.to_numpy(zero_copy_only=False)  # a bad row is quarantined for its rule
    for row in table.filter(pa.array(lost)).to_pylist():
        file, number = superseded.winners[(str(row[SOURCE_FILE]), int(row[SOURCE_ROW]))]
        reason = f"key delivered again later in this delivery ({file} row {number} wins)"
        rejects.append(_reject(row, [(", ".join(keys), reason)]))
    good = table.filter(pc.invert(pc.or_(bad, pa.array(lost))))
    return good.drop_columns([c for c in LINEAGE if c in good.column_names]), rejects


def _python_row(table: pa.Table, i: int) -> dict:
    """Row `i` as Python values; a time outside Python's calendar (Parquet can hold one) as its text."""
    row = table.slice(i, 1)
    try:
        return row.to_pylist()[0]
    except (OverflowError, ValueError):
        temporal = [c for c in row.column_names if pa.types.is_temporal(row[c].type)]
        return pa.table(
            {c: row[c].cast(pa.string()) if c in temporal else row[c] for c in row.column_names}
        ).to_pylist()[0]


def _origin(table: pa.Table, raw: RawTable) -> str:
    """The delivered file(s) a table came from, for an error that names what to fix."""
    files = sorted(pc.unique(table[SOURCE_FILE]).to_pylist()) if SOURCE_FILE in table.column_names else []
    return f"{', '.join(files)} (raw.{raw.name})" if files else f"raw.{raw.name} delivery"


def _reject(row: dict, hits: list[tuple[str, str]]) -> Reject:
    columns, reasons = zip(*hits, strict=True)
    return Reject(str(row[SOURCE_FILE]), int(row[SOURCE_ROW]), ", ".join(columns), "; ".join(reasons), _record(row))


def _quarantine_id(raw_table: str, reject: Reject) -> str:
    text = "|".join((raw_table, reject.file, str(reject.row_number), reject.record_json, reject.reason))
    return hashlib.sha1(text.encode()).hexdigest()[:24]


def record_quarantine(
    con: duckdb.DuckDBPyConnection,
    source: str,
    raw_table: str,
    rejects: list[Reject],
    load_id: str,
    loaded_at: datetime,
) -> int:
    """Store a load's rejects in audit.quarantine (one row per rejected record); returns how many."""
    con.execute(DDL)
    if rejects:
        con.executemany(
            f"insert into {QUARANTINE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (quarantine_id) do "
            "update set _load_id = excluded._load_id, _loaded_at = excluded._loaded_at",
            [
                [
                    _quarantine_id(raw_table, r),
                    source,
                    raw_table,
                    r.file,
                    r.row_number,
                    r.column,
                    r.reason,
                    r.record_json,
                    load_id,
                    loaded_at,
                ]
                for r in rejects
            ],
        )
    return len(rejects)
