"""GX suites construct completely, and the runner treats an expectation that errors as failed."""

from __future__ import annotations

import pandas as pd
import pytest

from expectations import raw_crm_orders
from orchestration.quality.gx_validation import validate_dataframe
from orchestration.quality.suites import suite_modules

#: Expected expectation count per suite: ExpectationSuite only logs when an expectation fails to construct.
EXPECTATION_COUNTS = {"raw_crm_orders": 9}


def _good_orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": ["O1", "O2", "O3"],
            "customer_id": ["C1", "C2", "C2"],
            "ordered_at": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"], utc=True),
            "currency": ["USD", "EUR", "GBP"],
            "order_total": [10.0, 0.0, 99.5],
            "status": ["completed", "refunded", "completed"],
            "updated_at": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"], utc=True),
        }
    )


def test_every_suite_is_discovered_with_its_full_expectation_count() -> None:
    counts = {m.SUITE_NAME: len(m.build_suite().expectations) for m in suite_modules()}
    assert counts == EXPECTATION_COUNTS


def test_every_expectation_says_why_it_exists() -> None:
    for module in suite_modules():
        for expectation in module.build_suite().expectations:
            assert expectation.description and len(expectation.description) > 20, expectation.expectation_type


def test_clean_batch_passes() -> None:
    outcome = validate_dataframe(_good_orders(), raw_crm_orders.build_suite())
    assert outcome.success, outcome.failures
    assert len(outcome.outcomes) == EXPECTATION_COUNTS["raw_crm_orders"]


@pytest.mark.parametrize(
    ("column", "value", "failing_expectation"),
    [
        ("customer_id", None, "expect_column_values_to_not_be_null"),
        ("order_total", -1.0, "expect_column_values_to_be_between"),
        ("currency", "usd", "expect_column_values_to_be_in_set"),
        ("status", "cancelled", "expect_column_values_to_be_in_set"),
        ("order_id", "O1", "expect_column_values_to_be_unique"),
    ],
)
def test_each_bad_value_fails_exactly_its_expectation(column: str, value: object, failing_expectation: str) -> None:
    frame = _good_orders()
    frame.loc[1, column] = value
    outcome = validate_dataframe(frame, raw_crm_orders.build_suite())
    assert [(f.expectation, f.column) for f in outcome.failures] == [(failing_expectation, column)]
    assert not outcome.failures[0].errored


def test_expectation_that_raises_is_a_failure_not_a_pass() -> None:
    """A missing column makes the column expectations raise inside GX; they must count as failed (errored)."""
    outcome = validate_dataframe(_good_orders().drop(columns=["currency"]), raw_crm_orders.build_suite())
    assert not outcome.success
    errored = [f for f in outcome.failures if f.errored]
    assert [(f.expectation, f.column) for f in errored] == [("expect_column_values_to_be_in_set", "currency")]
    assert "currency" in errored[0].detail
