"""Evaluate a GX expectation suite inside DuckDB, where the batch is: one aggregate query per suite.

Why not GX's own validation: GX 1.x validates a pandas batch through its metric-resolution engine at ~10 ms per
expectation whatever the rows (~5 s of every XS run over the ~17 gates, on the run's critical path), and the batch
has to cross into pandas first; GX over DuckDB through SQLAlchemy fails (see gx_validation.py). The suites stay GX
expectations in GX's serialised form built by expectations/_rules.py (GX's format, GX's parameters; no GX import on
the run's path); this module evaluates the five expectation types they use with GX's semantics, and
tests/test_sql_validation.py checks it against GX's validation of the same suites on the same frames:

- a missing value is never unexpected, except to `expect_column_values_to_not_be_null`;
- `mostly` is the share of non-missing values (of all rows for not-null) that must pass;
- a regex passes when it matches somewhere in the value (GX's pandas engine searches; the suites' patterns anchor);
- a rule on a column the batch lacks, an unresolved `$PARAMETER` or an expectation type not listed here fails as
  errored, never passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from expectations._rules import BETWEEN, COLUMNS_MATCH_SET, IN_SET, MATCH_REGEX, NOT_NULL, Suite
from orchestration.quality.gx_validation import SAMPLE_SIZE, ExpectationOutcome

FLOATS = {"FLOAT", "DOUBLE", "REAL"}


class _Unresolved(Exception):
    """A rule that cannot be evaluated: reported as an errored outcome."""


@dataclass(frozen=True)
class _Rule:
    index: int  # in the suite
    base: dict[str, Any]  # the outcome's expectation, column and description
    value: str  # SQL of the column's value
    condition: str  # SQL: the row is unexpected
    parameters: list[Any]
    counts_missing: bool  # missing values are rows of the rule (not-null) or are skipped (every other rule)
    mostly: float


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _plain(value: Any) -> Any:
    """A parameter as DuckDB binds it: numpy scalars as Python ones."""
    return value.item() if hasattr(value, "item") and not isinstance(value, (list, tuple, str)) else value


def _resolved(kwargs: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    resolved = {}
    for name, value in kwargs.items():
        if isinstance(value, dict) and "$PARAMETER" in value:
            if value["$PARAMETER"] not in parameters:
                raise _Unresolved(f"parameter {value['$PARAMETER']!r} of {name} was not given")
            value = parameters[value["$PARAMETER"]]
        resolved[name] = _plain(value)
    return resolved


def _unexpected(kind: str, value: str, kwargs: Mapping[str, Any]) -> tuple[str, list[Any], bool]:
    """(SQL condition of an unexpected row, its parameters, whether missing values count as rows of the rule)."""
    if kind == NOT_NULL:
        return f"{value} is null", [], True
    if kind == IN_SET:
        values = list(kwargs["value_set"])
        if not values:
            return f"{value} is not null", [], False
        return f"{value} is not null and {value} not in ({', '.join('?' * len(values))})", values, False
    if kind == MATCH_REGEX:
        return f"{value} is not null and not regexp_matches(cast({value} as varchar), ?)", [kwargs["regex"]], False
    if kind == BETWEEN:
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        if low is None and high is None:
            raise _Unresolved("min_value and max_value cannot both be None")
        outside, params = [], []
        if low is not None:
            outside.append(f"{value} {'<=' if kwargs.get('strict_min') else '<'} ?")
            params.append(low)
        if high is not None:
            outside.append(f"{value} {'>=' if kwargs.get('strict_max') else '>'} ?")
            params.append(high)
        return f"{value} is not null and ({' or '.join(outside)})", params, False
    raise _Unresolved(f"{kind} is not evaluated in DuckDB (orchestration/quality/sql_validation.py)")


def validate_relation(
    con: duckdb.DuckDBPyConnection, sql: str, suite: Suite, parameters: Mapping[str, Any] | None = None
) -> tuple[int, list[ExpectationOutcome]]:
    """Rows of the relation `sql` and one outcome per expectation of `suite`, in the suite's order."""
    parameters = parameters or {}
    described = con.execute(f"describe select * from ({sql}) as batch").fetchall()
    types = {row[0]: str(row[1]).upper() for row in described}
    rules: list[_Rule] = []
    outcomes: list[ExpectationOutcome | None] = []
    for index, expectation in enumerate(suite.expectations):
        kind, column = expectation.type, expectation.column
        base = {"expectation": kind, "column": column, "description": expectation.description}
        try:
            kwargs = _resolved(expectation.kwargs, parameters)
            if kind == COLUMNS_MATCH_SET:
                expected, observed = set(kwargs["column_set"]), set(types)
                missing = expected ^ observed if kwargs.get("exact_match") else expected - observed
                detail = f"observed_value={list(types)}"
                outcomes.append(ExpectationOutcome(**base, success=not missing, errored=False, detail=detail))
                continue
            if column not in types:
                raise _Unresolved(f'The column "{column}" in BatchData does not exist.')
            value = _quote(column)
            if types[column] in FLOATS:  # pandas (and so GX) reads NaN as missing
                value = f"nullif({value}, 'NaN'::double)"
            condition, params, counts_missing = _unexpected(kind, value, kwargs)
        except _Unresolved as problem:
            outcomes.append(ExpectationOutcome(**base, success=False, errored=True, detail=str(problem)))
            continue
        rules.append(_Rule(index, base, value, condition, params, counts_missing, float(kwargs.get("mostly", 1.0))))
        outcomes.append(None)

    aggregates = ["count(*)"]
    bound: list[Any] = []
    for rule in rules:
        aggregates += [f"count(*) filter (where {rule.condition})", f"count({rule.value})"]
        bound += rule.parameters
    (counts,) = con.execute(f"select {', '.join(aggregates)} from ({sql}) as batch", bound).fetchall()
    rows = counts[0]
    for position, rule in enumerate(rules):
        unexpected, present = counts[1 + 2 * position], counts[2 + 2 * position]
        judged = rows if rule.counts_missing else present
        samples: list[Any] = []
        if unexpected:
            query = f"select {rule.value} from ({sql}) as batch where {rule.condition} limit {SAMPLE_SIZE}"
            samples = [row[0] for row in con.execute(query, rule.parameters).fetchall()]
        outcomes[rule.index] = ExpectationOutcome(
            **rule.base,
            success=judged == 0 or (judged - unexpected) / judged >= rule.mostly,
            errored=False,
            detail=f"unexpected_count={unexpected}, unexpected_percent={100 * unexpected / judged if judged else None}",
            unexpected_count=unexpected,
            sample_bad_values=samples,
        )
    return rows, [outcome for outcome in outcomes if outcome is not None]
