"""The gates' DuckDB evaluation of the GX suites (orchestration/quality/sql_validation.py) gives GX's own answers.

Every raw suite's row rules and every suite's table rules run both ways on the same frames: GX 1.x's validation on
pandas (the reference) and the DuckDB evaluation on the same frame registered in DuckDB. Frames: each raw table of
the XS delivery as it is (every rule passes), corrupted the ways deliveries go wrong (missing values, blanks in keys,
junk text, negative and NaN numbers; two corruptions in one frame) and missing a column; the table rules on metric
rows that pass, fail, are NaN or stale. The outcome of every expectation must agree: passed or not, errored or not,
how many rows were unexpected.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from expectations import _rules
from orchestration.quality.gate import GateContext, build_suites, parameters
from orchestration.quality.gx_validation import ExpectationOutcome, validate_dataframe
from orchestration.quality.sql_validation import validate_relation
from orchestration.quality.suites import suite_modules

CTX = GateContext(
    now=datetime(2026, 11, 1, 12, tzinfo=UTC), as_of=date(2026, 10, 31), currencies=("EUR", "GBP", "USD", "CAD")
)
RAW = [m for m in suite_modules() if m.DATASET[0] == "raw"]


def _judged(outcomes: list[ExpectationOutcome]) -> list[tuple]:
    """Each expectation's verdict, in a stable order (GX reports them in an order of its own)."""
    return sorted((o.expectation, o.column or "", o.success, o.errored, o.unexpected_count) for o in outcomes)


def _both(frame: pd.DataFrame, suite, params) -> tuple[list[tuple], list[tuple]]:
    reference = validate_dataframe(frame, suite, params).outcomes
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.register("batch_frame", frame)
        rows, ours = validate_relation(con, "select * from batch_frame", suite, params)
    assert rows == len(frame)
    return _judged(ours), _judged(reference)


def _corrupted(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A few values of every column replaced by what broken exports carry: missing values and blanks, junk text,
    negative and NaN numbers, missing timestamps."""
    rng = np.random.default_rng(seed)
    junk_by_kind = {"O": [None, "", " x y"], "i": [np.nan, -1, np.nan], "f": [np.nan, -1.0, None], "M": [pd.NaT]}
    broken = frame.copy()
    for column in broken.columns:
        kind = broken[column].dtype.kind
        junk = junk_by_kind.get(kind, [])
        if kind == "i":
            broken[column] = broken[column].astype("float64")  # pandas holds a missing integer as NaN
        rows = rng.choice(len(broken), size=len(junk), replace=False)
        for row, value in zip(rows, junk, strict=True):
            broken.loc[broken.index[row], column] = value
    return broken


@pytest.mark.parametrize("module", RAW, ids=lambda m: m.SUITE_NAME)
def test_row_rules_agree_with_gx_on_real_and_corrupted_batches(module, xs_tables: dict[str, pa.Table]) -> None:
    row_suite, _ = build_suites(module)
    params = parameters(module, CTX, [])
    table = module.DATASET[1]
    frame = xs_tables[table].slice(0, 400).to_pandas()
    ours, reference = _both(frame, row_suite, params)
    assert ours == reference
    assert all(success for _, _, success, _, _ in ours), ours  # the real delivery passes
    corrupted = pd.concat([_corrupted(frame, seed) for seed in range(2)], ignore_index=True)  # one GX run: ~0.3 s
    ours, reference = _both(corrupted, row_suite, params)
    assert ours == reference
    assert any(not success for _, _, success, _, _ in ours), "the corruption must break some rule"
    column = next(e.column for e in row_suite.expectations if e.column)
    ours, reference = _both(frame.drop(columns=[column]), row_suite, params)  # a rule on a missing column errors
    assert ours == reference and any(errored for _, c, _, errored, _ in ours if c == column)


@pytest.mark.parametrize("module", suite_modules(), ids=lambda m: m.SUITE_NAME)
def test_table_rules_agree_with_gx_on_passing_failing_and_missing_metrics(module) -> None:
    _, table_suite = build_suites(module)
    params = parameters(module, CTX, [10, 10, 10])
    timed = {_rules.NOW, _rules.FRESH_AFTER}  # rules on a timestamp metric compare it with one of these
    metrics = {
        e.column: any(isinstance(v, dict) and v.get("$PARAMETER") in timed for v in e.kwargs.values())
        for e in table_suite.expectations
        if e.column
    }
    fresh = pd.Timestamp("2026-10-31 10:00", tz="UTC")

    def row(value) -> pd.DataFrame:
        return pd.DataFrame({m: [fresh if is_time else value] for m, is_time in metrics.items()})

    stale = row(0).assign(**{m: pd.Timestamp("2020-01-01", tz="UTC") for m, is_time in metrics.items() if is_time})
    outcomes = []
    # Zero alone, then the other rows in one frame (one GX run each: ~0.3 s): the unexpected count per rule must
    # agree, so every row is classified alike.
    for frame in (row(0), pd.concat([row(5), row(-3), row(np.nan), row(10**9), stale], ignore_index=True)):
        ours, reference = _both(frame, table_suite, params)
        assert ours == reference
        outcomes.append(ours)
    assert {s for outcome in outcomes for _, _, s, _, _ in outcome} == {True, False}  # the frames pass and fail rules
