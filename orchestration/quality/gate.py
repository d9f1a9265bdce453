"""Run one suite module (see expectations/__init__.py) against the warehouse: row rules on streamed chunks,
table rules on one row of metrics computed inside DuckDB."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pandas as pd

from orchestration.extract.ledger import recent_load_rows

#: Rows per chunk handed to GX: bounds memory whatever the table size.
CHUNK_ROWS = 200_000


@dataclass(frozen=True)
class GateContext:
    """Runtime facts a suite's parameters are computed from."""

    now: datetime
    as_of: date


def build_suites(module: ModuleType) -> tuple[Any, Any]:
    import great_expectations as gx

    return (
        gx.ExpectationSuite(name=module.SUITE_NAME, expectations=module.row_rules()),
        gx.ExpectationSuite(name=f"{module.SUITE_NAME}__table", expectations=module.table_rules()),
    )


def batch_filter(module: ModuleType, con: duckdb.DuckDBPyConnection) -> tuple[str, str | None]:
    """SQL for the rows this gate judges, and the load id they came from (raw batches only)."""
    schema, table = module.DATASET
    relation = f'"{schema}"."{table}"'
    if module.SCOPE == "table":
        return f"select * from {relation}", None
    (load_id,) = con.execute(f"select max(_load_id) from {relation}").fetchall()[0]
    if load_id is None:
        raise ValueError(f"{schema}.{table} has no loaded rows to validate")
    return f"select * from {relation} where _load_id = '{load_id}'", load_id


def parameters(module: ModuleType, ctx: GateContext, recent_rows: list[int]) -> dict[str, Any]:
    from expectations import _rules

    # Without load history there is no band: any non-negative count passes (not_empty judges empty batches).
    params: dict[str, Any] = {_rules.NOW: pd.Timestamp(ctx.now), _rules.VOLUME_MIN: 0, _rules.VOLUME_MAX: None}
    start_of_as_of = datetime.combine(ctx.as_of, time.min, tzinfo=ctx.now.tzinfo)
    freshness = getattr(module, "FRESHNESS_DAYS", None)
    params[_rules.FRESH_AFTER] = pd.Timestamp(start_of_as_of - timedelta(days=freshness)) if freshness else None
    band = getattr(module, "VOLUME_BAND", None)
    if band and recent_rows:
        median = statistics.median(recent_rows)
        params[_rules.VOLUME_MIN], params[_rules.VOLUME_MAX] = median / band, median * band
    return params


def run_gate(warehouse_path: Path, module: ModuleType, ctx: GateContext, chunk_rows: int = CHUNK_ROWS):
    """Validate the module's dataset; returns a SuiteOutcome of row rules followed by table rules."""
    from orchestration.quality.gx_validation import SuiteOutcome, SuiteRunner, merge_chunks

    row_suite, table_suite = build_suites(module)
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        batch_sql, load_id = batch_filter(module, con)
        recent = recent_load_rows(con, module.DATASET[1], load_id) if load_id else []
        params = parameters(module, ctx, recent)

        rows = 0
        row_runner = SuiteRunner(row_suite)
        chunks = []
        for record_batch in con.sql(batch_sql).to_arrow_reader(chunk_rows):
            rows += record_batch.num_rows
            chunks.append(row_runner.run(record_batch.to_pandas(), params))
        if not chunks:  # an empty batch still gets its column rules checked (and fails not_empty below)
            chunks.append(row_runner.run(con.sql(f"{batch_sql} limit 0").df(), params))

        metrics_sql = module.TABLE_METRICS.format(as_of=f"date '{ctx.as_of.isoformat()}'")
        metrics = con.sql(f"select {metrics_sql} from ({batch_sql}) as batch").df()
        table_outcomes = SuiteRunner(table_suite).run(metrics, params)
    return SuiteOutcome(suite=module.SUITE_NAME, rows=rows, outcomes=merge_chunks(chunks) + table_outcomes)
