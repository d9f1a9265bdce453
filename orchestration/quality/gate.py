"""Run one suite module (see expectations/__init__.py) against the warehouse: row rules evaluated inside DuckDB on
the batch (sql_validation.py, no batch leaves DuckDB), table rules on one row of metrics computed there too."""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pandas as pd

from expectations import _rules
from orchestration.capabilities import empty_by_design
from orchestration.extract.ledger import (
    LEDGER,
    _has_ledger,
    recent_published_rows,
    unpublished_absent_only,
    unpublished_deltas_only,
    unpublished_loads,
)
from orchestration.quality.gx_validation import ExpectationOutcome, SuiteOutcome
from orchestration.quality.sql_validation import validate_relation
from orchestration.warehouse import connect_file

#: Per-day volume is judged only when a typical day has at least this many rows: below it, chance alone (Poisson
#: noise, sd = sqrt(n)) routinely moves a day's count outside a 3x band, and an empty day is normal.
MIN_DAILY_ROWS_FOR_BAND = 20
#: The freshness bound of a table whose freshness is not judged (C360_FRESHNESS_DAYS `none`, or not delivered): any
#: timestamp passes. A bound, not None, because the suite's rule still needs one.
NOT_JUDGED = datetime(1900, 1, 1, tzinfo=UTC)
#: Days before the newest published day whose row counts form the per-day baseline.
DAILY_BASELINE_DAYS = 7


@dataclass(frozen=True)
class GateContext:
    """Runtime facts a suite's parameters are computed from."""

    now: datetime
    as_of: date
    #: Raw tables the deployment requires (C360_REQUIRED_TABLES); any other may be not delivered.
    required: tuple[str, ...] = ("crm_customers", "crm_orders")
    #: Per-table freshness in days overriding the suite's FRESHNESS_DAYS (C360_FRESHNESS_DAYS; None = no rule).
    freshness_days: Mapping[str, int | None] = field(default_factory=dict)
    #: Where a required table that is missing should have been delivered (the fix), e.g. "crm/orders*.csv".
    expected: Mapping[str, str] = field(default_factory=dict)
    #: Currencies the run can convert (fx_rates.known_currencies of its settings); none given, no currency passes.
    currencies: tuple[str, ...] = ()


def build_suites(module: ModuleType) -> tuple[_rules.Suite, _rules.Suite]:
    """Row and table suites; every raw suite (SCOPE unpublished_loads) also gets the quarantine-rate rule."""
    table_rules = module.table_rules()
    if module.SCOPE == "unpublished_loads":
        table_rules.append(_rules.quarantine_rate_within_threshold())
    return (
        _rules.Suite(module.SUITE_NAME, tuple(module.row_rules())),
        _rules.Suite(f"{module.SUITE_NAME}__table", tuple(table_rules)),
    )


@dataclass(frozen=True)
class Batch:
    sql: str  # the rows this gate judges
    rows_collapsed_by_key: int | None  # raw only: rows of the newest load that the merge folded into another row
    quarantine_rate: float | None  # raw only: the largest share of an unpublished load's rows that was quarantined


def batch_filter(module: ModuleType, con: duckdb.DuckDBPyConnection) -> Batch:
    """Raw: every row of every load not yet published (fail-closed: a rejected load is judged again until it is
    discarded). Marts: the whole table."""
    schema, table = module.DATASET
    relation = f'"{schema}"."{table}"'
    if module.SCOPE == "table":
        return Batch(f"select * from {relation}", None, None)
    loads = unpublished_loads(con, table)
    if not loads:
        raise ValueError(f"{schema}.{table} has no unpublished load in audit.loads: nothing new to gate")
    load_ids = ", ".join(f"'{load[0]}'" for load in loads)
    _, extracted, loaded, quarantined = loads[-1]
    # A load whose rows were all re-delivered by a later load is superseded: its quarantine no longer matters.
    live = {
        r[0] for r in con.execute(f"select distinct _load_id from {relation} where _load_id in ({load_ids})").fetchall()
    }
    rate = max(
        (q / e if e else 0.0) for i, (load_id, e, _, q) in enumerate(loads) if load_id in live or i == len(loads) - 1
    )
    return Batch(f"select * from {relation} where _load_id in ({load_ids})", extracted - loaded - quarantined, rate)


def parameters(
    module: ModuleType, ctx: GateContext, recent_rows: list[int], per_day: bool | None = None, delta: bool = False
) -> dict[str, Any]:
    """`per_day`: the baseline is rows per day (default: the module declares VOLUME_DAY). `delta`: the batch is rows
    changed since a cursor: it may be empty and has no delivery size to band (_rules.volume_within_recent_band)."""
    # Without load history there is no band: any non-negative count passes (not_empty judges empty batches).
    params: dict[str, Any] = {
        _rules.NOW: pd.Timestamp(ctx.now),
        _rules.VOLUME_MIN: 0,
        _rules.VOLUME_MAX: None,
        _rules.MIN_ROWS: 0 if delta else 1,
        _rules.CURRENCY_PATTERN: _rules.currency_pattern(ctx.currencies),
    }
    start_of_as_of = datetime.combine(ctx.as_of, time.min, tzinfo=ctx.now.tzinfo)
    table = module.DATASET[1]
    freshness = ctx.freshness_days.get(table, getattr(module, "FRESHNESS_DAYS", None))
    fresh_after = start_of_as_of - timedelta(days=freshness) if freshness is not None else NOT_JUDGED
    params[_rules.FRESH_AFTER] = pd.Timestamp(fresh_after)
    band = getattr(module, "VOLUME_BAND", None)
    daily = getattr(module, "VOLUME_DAY", None) is not None if per_day is None else per_day
    if band and recent_rows and (daily or not delta):
        median = statistics.median(recent_rows)
        if not daily or median >= MIN_DAILY_ROWS_FOR_BAND:
            params[_rules.VOLUME_MIN], params[_rules.VOLUME_MAX] = median / band, median * band
    return params


def volume_baseline(con: duckdb.DuckDBPyConnection, module: ModuleType) -> tuple[list[int], bool]:
    """What the volume band is centred on, and whether it is per day. Snapshot tables: rows of recent published
    loads. Daily tables (VOLUME_DAY): rows per day over the DAILY_BASELINE_DAYS before the newest published day (that
    day itself may still be incomplete), counted in raw rows of published loads. Raw keeps only the latest version
    of a row, so when every published row has since been re-delivered by loads not yet published (a rejected batch
    delivered again in full), the per-day history is gone: then the whole batch is compared with recent published
    loads, as for snapshot tables."""
    schema, table = module.DATASET
    day = getattr(module, "VOLUME_DAY", None)
    if day is None or not _has_ledger(con):
        return recent_published_rows(con, table) if _has_ledger(con) else [], False
    published = (
        f'select {day} as day from "{schema}"."{table}" where _load_id in (select load_id from {LEDGER} '
        "where table_name = ? and published_at is not null and discarded_at is null)"
    )
    rows = con.execute(
        f"with published as ({published}), newest as (select max(day) as d from published) "
        f"select count(*) from published, newest where day >= d - {DAILY_BASELINE_DAYS} and day < d group by day",
        [table],
    ).fetchall()
    if rows:
        return [r[0] for r in rows], True
    return recent_published_rows(con, table), False


def newest_day_rows(con: duckdb.DuckDBPyConnection, module: ModuleType, batch_sql: str) -> int:
    day = module.VOLUME_DAY
    return con.execute(
        f"with batch as ({batch_sql}) select count(*) from batch where {day} = (select max({day}) from batch)"
    ).fetchall()[0][0]


def delta_day_rows(con: duckdb.DuckDBPyConnection, module: ModuleType, batch_sql: str) -> int | None:
    """The per-day volume of a delta: a delta holds the rows changed since the last read, so a day's rows are spread
    over the loads, and the day the read ran on is still incomplete. So: the newest day before the read's day that
    the delta touched, counted in the whole table (published rows plus this delta). None when the delta touched no
    complete day (it is empty, or brought only today's rows): then there is no day to judge yet."""
    schema, table = module.DATASET
    day = module.VOLUME_DAY
    relation = f'"{schema}"."{table}"'
    rows = con.execute(
        f"with batch as ({batch_sql}), judged as (select max({day}) as d from batch "
        f"where {day} < (select cast(max(_loaded_at) as date) from batch)) "
        f"select judged.d, (select count(*) from {relation} where {day} = judged.d) from judged"
    ).fetchall()
    return rows[0][1] if rows and rows[0][0] is not None else None


def whole_table_metrics(table_suite: _rules.Suite) -> list[str]:
    """Metrics a delta is judged on over the whole table (rules marked _rules.WHOLE_TABLE_WHEN_DELTA)."""
    marker = next(iter(_rules.WHOLE_TABLE_WHEN_DELTA))
    return [e.column for e in table_suite.expectations if e.meta.get(marker)]


def run_gate(warehouse_path: Path, module: ModuleType, ctx: GateContext) -> SuiteOutcome:
    """Validate the module's dataset; returns a SuiteOutcome of row rules followed by table rules."""
    row_suite, table_suite = build_suites(module)
    table = module.DATASET[1]
    with connect_file(warehouse_path, read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        batch = batch_filter(module, con)
        raw = module.SCOPE != "table"
        absent = raw and unpublished_absent_only(con, table)
        if absent and table in ctx.required:
            return SuiteOutcome(
                module.SUITE_NAME,
                0,
                [ExpectationOutcome("delivered", None, False, False, _missing_required(table, ctx))],
                note="not delivered (required)",
            )
        recent, per_day = volume_baseline(con, module) if raw else ([], False)
        delta = raw and unpublished_deltas_only(con, table)
        params = parameters(module, ctx, recent, per_day, delta or absent)
        note = ""
        if raw and table not in ctx.required:  # an optional table's export may be empty; its volume band decides
            params[_rules.MIN_ROWS] = 0
        if absent:  # an optional table with no delivery: nothing to be empty, stale or off-volume about
            params[_rules.FRESH_AFTER] = pd.Timestamp(NOT_JUDGED)
            params[_rules.VOLUME_MIN], params[_rules.VOLUME_MAX] = 0, None
            note = "not delivered (optional table: zero rows in raw; its freshness and volume are not judged)"
        elif not raw and table in (why := empty_by_design(con)):  # a mart of a capability that is off
            params[_rules.MIN_ROWS] = 0
            note = f"empty by design: {why[table]}"
        day_rows = delta_day_rows(con, module, batch.sql) if delta and per_day else None
        if delta and day_rows is None:
            params[_rules.VOLUME_MIN], params[_rules.VOLUME_MAX] = 0, None  # no complete day's volume to judge

        rows, row_outcomes = validate_relation(con, batch.sql, row_suite, params)

        metrics_sql = module.TABLE_METRICS.format(as_of=f"date '{ctx.as_of.isoformat()}'")
        metrics = con.sql(f"select {metrics_sql} from ({batch.sql}) as batch").df()
        if delta:  # e.g. freshness: a delta's newest record is not the table's
            whole = con.sql(f'select {metrics_sql} from "{module.DATASET[0]}"."{module.DATASET[1]}" as batch').df()
            for metric in whole_table_metrics(table_suite):
                metrics[metric] = whole[metric]
        if batch.rows_collapsed_by_key is not None:
            metrics["rows_collapsed_by_key"] = batch.rows_collapsed_by_key
        if batch.quarantine_rate is not None:
            metrics["quarantine_rate"] = batch.quarantine_rate
        if getattr(module, "VOLUME_DAY", None) is not None:  # without a per-day history: the whole batch
            if day_rows is None:
                day_rows = newest_day_rows(con, module, batch.sql) if per_day else rows
            metrics[_rules.NEWEST_DAY_ROWS] = day_rows
        con.register("gate_metrics", metrics)
        _, table_outcomes = validate_relation(con, "select * from gate_metrics", table_suite, params)
    return SuiteOutcome(suite=module.SUITE_NAME, rows=rows, outcomes=row_outcomes + table_outcomes, note=note)


def _missing_required(table: str, ctx: GateContext) -> str:
    where = ctx.expected.get(table, f"raw.{table}")
    return (
        f"raw.{table} was not delivered (no {where}) but C360_REQUIRED_TABLES requires it: deliver it, or drop "
        f"{table} from C360_REQUIRED_TABLES"
    )
