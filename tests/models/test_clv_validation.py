"""Invalid summaries raise InvalidSummaryError naming the problem and the row count."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models import BetaGeoFitter, ConvergenceError, InvalidSummaryError


@pytest.mark.parametrize(
    ("x", "t_x", "T", "message"),
    [
        ([1, 2, 3], [5.0, 6.0, 1.0], [4.0, 5.0, 6.0], r"recency is greater than T in 2 rows"),
        ([1, -2, 3], [1.0, 1.0, 1.0], [4.0, 5.0, 6.0], r"frequency is negative in 1 row\b"),
        ([1, 2, 3], [1.0, -1.0, 1.0], [4.0, 5.0, 6.0], r"recency is negative in 1 row\b"),
        ([1, 2, 3], [1.0, 1.0, 1.0], [4.0, -5.0, 6.0], r"T is negative in 1 row\b"),
        ([1.5, 2, 3.25], [1.0, 1.0, 1.0], [4.0, 5.0, 6.0], r"whole number .* 2 rows are not"),
        ([1, np.nan, 3], [1.0, 1.0, 1.0], [4.0, 5.0, 6.0], r"frequency contains NaN .* 1 row\b"),
        (
            [1, 2, 3],
            [1.0, 1.0, np.inf],
            [4.0, 5.0, 6.0],
            r"recency contains NaN or infinite values in 1 row\b",
        ),
        ([1, 2, 3], [1.0, 1.0], [4.0, 5.0, 6.0], r"mismatched lengths: frequency=3, recency=2, T=3"),
        (
            [0, 2, 0],
            [1.0, 1.0, 2.0],
            [4.0, 5.0, 6.0],
            r"recency must be 0 when frequency is 0; violated in 2 rows",
        ),
        (["1", "2"], [1.0, 1.0], [4.0, 5.0], r"frequency must be real numbers"),
        ([], [], [], r"empty"),
    ],
)
def test_invalid_summary(x: list, t_x: list, T: list, message: str) -> None:
    with pytest.raises(InvalidSummaryError, match=message):
        BetaGeoFitter().fit(x, t_x, T)


def test_invalid_summary_is_a_value_error_and_checked_in_predictions() -> None:
    model = BetaGeoFitter().fit([0, 1, 2, 0, 3], [0.0, 2.0, 4.0, 0.0, 5.0], [6.0, 6.0, 6.0, 3.0, 6.0])
    with pytest.raises(ValueError, match="recency is greater than T"):
        model.expected_purchases(10, [1], [7.0], [6.0])
    with pytest.raises(InvalidSummaryError, match="t must be finite and >= 0"):
        model.expected_purchases(-1, [1], [1.0], [6.0])
    with pytest.raises(InvalidSummaryError, match="weights are negative in 1 row"):
        BetaGeoFitter().fit([1, 0], [1.0, 0.0], [2.0, 2.0], weights=[1.0, -1.0])


def test_series_inputs_are_validated_without_casting(cdnow_summary: pd.DataFrame) -> None:
    # A well-posed sample (CDNOW) as float Series: a 3-customer toy has no interior optimum and made this test flaky.
    s = cdnow_summary
    fitted = BetaGeoFitter().fit(s["frequency"].astype(float), s["recency"], s["T"])
    assert fitted.n_customers_ == 2357
    with pytest.raises(InvalidSummaryError, match="frequency must be real numbers"):
        BetaGeoFitter().fit(pd.Series([True, False]), [1.0, 0.0], [3.0, 3.0])


def test_convergence_error_carries_optimizer_message() -> None:
    with pytest.raises(ConvergenceError) as info:
        BetaGeoFitter(max_iter=1).fit([0, 1, 2, 5, 0], [0.0, 2.0, 4.0, 5.5, 0.0], [6.0, 6.0, 6.0, 6.0, 3.0])
    assert info.value.optimizer_message
    assert info.value.optimizer_message in str(info.value)
