"""calibration_summary / compress_summary on CDNOW and on small hand-made data."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import numpy as np
import pandas as pd
import pytest

from models import InvalidSummaryError, calibration_summary, compress_summary


def test_cdnow_summary_known_numbers(cdnow_summary: pd.DataFrame) -> None:
    s = cdnow_summary
    # FHL 2005 / Hardie's BG/NBD spreadsheet: 2,357 customers, 39-week calibration period,
    # first purchases in the first 12 weeks of 1997 (so 27 <= T <= 38.86 weeks).
    assert len(s) == 2357
    assert s["T"].max() == pytest.approx(272 / 7)  # first purchase 1997-01-01
    assert s["T"].min() == pytest.approx(189 / 7)  # first purchase 1997-03-25 (week 12)
    # 2,457 repeat transactions in the calibration period; 946 repeat buyers (FH 2013
    # Gamma-Gamma note), hence 1,411 customers with no repeat purchase.
    assert int(s["frequency"].sum()) == 2457
    assert int((s["frequency"] > 0).sum()) == 946
    # Customer 1 is the worked example of FHL 2005 (x=2, t_x=30.43, T=38.86).
    assert s.loc[1, "frequency"] == 2
    assert round(s.loc[1, "recency"], 2) == 30.43
    assert round(s.loc[1, "T"], 2) == 38.86
    assert s.loc[2, "frequency"] == 1
    assert round(s.loc[2, "recency"], 2) == 1.71
    # monetary value = mean of the repeat purchases only
    assert s.loc[1, "monetary_value"] == pytest.approx((14.96 + 29.73) / 2)
    assert (s.loc[s["frequency"] == 0, "monetary_value"] == 0).all()


def test_cdnow_summary_matches_independent_computation(
    cdnow_transactions: pd.DataFrame, cdnow_summary: pd.DataFrame
) -> None:
    """Recompute every row with plain Python (dicts + datetime.date) and compare."""
    end = date(1997, 9, 30)
    per_day: dict[int, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for cid, d, v in zip(
        cdnow_transactions["customer_id"],
        cdnow_transactions["date"],
        cdnow_transactions["value"],
        strict=True,
    ):
        day = date(int(d[:4]), int(d[4:6]), int(d[6:]))
        if day <= end:
            per_day[int(cid)][day] += float(v)
    assert sorted(per_day) == list(cdnow_summary.index)
    for cid, days in per_day.items():
        ordered = sorted(days)
        row = cdnow_summary.loc[cid]
        x = len(ordered) - 1
        assert row["frequency"] == x
        assert row["recency"] == pytest.approx((ordered[-1] - ordered[0]).days / 7)
        assert row["T"] == pytest.approx((end - ordered[0]).days / 7)
        expected_m = sum(days[d] for d in ordered[1:]) / x if x else 0.0
        assert row["monetary_value"] == pytest.approx(expected_m)


def _toy() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cust": ["a", "a", "a", "a", "b", "c", "c"],
            "ts": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 17:30",  # same day as the first purchase: merged into it
                    "2024-01-08 10:00",
                    "2024-01-08 11:00",  # merged: one repeat purchase worth 30
                    "2024-01-10",
                    "2024-01-05",
                    "2024-02-01",  # after observation_end: ignored
                ],
                format="ISO8601",
            ),
            "amount": [5.0, 5.0, 10.0, 20.0, 7.0, 3.0, 100.0],
        }
    )


def test_same_day_purchases_are_merged_and_units() -> None:
    s = calibration_summary(_toy(), "cust", "ts", "amount", observation_end="2024-01-15")
    assert list(s.index) == ["a", "b", "c"]
    assert s.loc["a"].tolist() == [1, 7.0, 14.0, 30.0]
    assert s.loc["b"].tolist() == [0, 0.0, 5.0, 0.0]
    assert s.loc["c"].tolist() == [0, 0.0, 10.0, 0.0]
    weekly = calibration_summary(_toy(), "cust", "ts", observation_end="2024-01-15", time_unit="W")
    assert "monetary_value" not in weekly.columns
    assert weekly.loc["a", "recency"] == pytest.approx(1.0)
    assert weekly.loc["a", "T"] == pytest.approx(2.0)
    two_day = calibration_summary(_toy(), "cust", "ts", observation_end="2024-01-15", time_unit_multiplier=2)
    assert two_day.loc["a", "T"] == pytest.approx(7.0)


def test_customers_first_seen_after_end_are_dropped() -> None:
    s = calibration_summary(_toy(), "cust", "ts", observation_end="2024-01-06")
    assert list(s.index) == ["a", "c"]
    assert s.loc["a", "frequency"] == 0


def test_row_order_and_id_type_do_not_change_the_summary() -> None:
    """The summary groups on codes of the sorted ids: rows in any order give the same rows under the same labels, a
    customer dropped between others (first seen after the end) leaves the others' labels in place, and integer ids
    stay integers."""
    toy = _toy()
    expected = calibration_summary(toy, "cust", "ts", "amount", observation_end="2024-01-06")
    shuffled = toy.iloc[::-1].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        calibration_summary(shuffled, "cust", "ts", "amount", observation_end="2024-01-06"), expected
    )
    numbered = shuffled.assign(cust=shuffled["cust"].map({"a": 30, "b": 10, "c": 20}))
    by_number = calibration_summary(numbered, "cust", "ts", "amount", observation_end="2024-01-06")
    assert list(by_number.index) == [20, 30] and by_number.index.dtype == np.int64
    assert by_number.loc[30].tolist() == expected.loc["a"].tolist()
    assert by_number.loc[20].tolist() == expected.loc["c"].tolist()


def test_summary_input_errors() -> None:
    with pytest.raises(InvalidSummaryError, match="missing columns"):
        calibration_summary(_toy(), "cust", "when", observation_end="2024-01-15")
    bad = _toy().assign(ts=["2024-01-01"] * 7)
    with pytest.raises(InvalidSummaryError, match="datetime dtype"):
        calibration_summary(bad, "cust", "ts", observation_end="2024-01-15")
    with pytest.raises(InvalidSummaryError, match="time_unit"):
        calibration_summary(_toy(), "cust", "ts", observation_end="2024-01-15", time_unit="M")  # type: ignore[arg-type]
    nan_amount = _toy().assign(amount=[1.0, np.nan, 1.0, 1.0, 1.0, 1.0, 1.0])
    with pytest.raises(InvalidSummaryError, match="1 rows"):
        calibration_summary(nan_amount, "cust", "ts", "amount", observation_end="2024-01-15")


def test_compress_summary_roundtrip() -> None:
    x = np.array([0, 1, 0, 1, 2, 1])
    t_x = np.array([0.0, 3.0, 0.0, 3.0, 4.0, 3.0])
    T = np.array([5.0, 5.0, 5.0, 5.0, 6.0, 6.0])
    c = compress_summary(x, t_x, T)
    assert len(c.weights) == 4
    assert c.weights.sum() == 6
    np.testing.assert_array_equal(c.frequency[c.inverse], x)
    np.testing.assert_array_equal(c.recency[c.inverse], t_x)
    np.testing.assert_array_equal(c.T[c.inverse], T)
    weighted = compress_summary(x, t_x, T, weights=np.arange(6.0))
    assert weighted.weights.sum() == 15
