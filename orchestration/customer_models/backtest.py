"""Back-test of the purchase model on every run: fit on a calibration window, predict the holdout, compare with a
naive baseline.

The model (MBG/NBD, or BG/NBD where that has no interior optimum; BG/NBD whenever `clv_predictions` fell back to
it, so the back-test scores the model the predictions use) is fitted on completed orders up to `as_of - holdout`; each
customer who had bought by then gets a prediction of their purchase days in the holdout `(calibration end, as_of]`,
which is compared with what they did. The baseline carries each customer's calibration-period repeat rate forward
(`repeat purchases / days since first purchase x holdout days`; 0 for a customer whose first purchase is on the
calibration end day). Both are scored per customer (mean absolute error) and in total (predicted - actual).

The holdout is 26 weeks, or half the order history when that is shorter (the XS demo holds 120 days), so the
calibration window is never shorter than the holdout. Too little history to calibrate on (fewer than
`MIN_CUSTOMERS` customers with a first purchase before the holdout, or a fit that does not converge) is reported
as not evaluated rather than as a pass or a fail, as is a calibration fit whose predictions overflow (both MBG/NBD
and BG/NBD run off towards a point-mass dropout probability on the tests' CRM-only delivery, a+b > 10^6).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from models import CLVError, calibration_summary
from orchestration.customer_models.purchase_model import fit_purchase_model

HOLDOUT_DAYS = 182
MIN_CUSTOMERS = 100
BASELINE = "calibration_rate_carried_forward"


#: The columns of `customer_models.clv_backtest` (one row per method), with their types; empty when not evaluated.
SCORE_COLUMNS = {
    "as_of_date": "datetime64[s]",
    "calibration_end_date": "datetime64[s]",
    "holdout_days": "int64",
    "method": "object",
    "is_model": "bool",
    "customers": "int64",
    "actual_purchases": "int64",
    "predicted_purchases": "float64",
    "total_error": "float64",
    "total_error_pct": "float64",
    "mean_absolute_error": "float64",
}


@dataclass(frozen=True)
class Backtest:
    """`scores`: one row per method (model, baseline), no rows when `not_evaluated` says why."""

    scores: pd.DataFrame
    not_evaluated: str | None = None

    def model_beats_baseline(self) -> bool:
        """The model wins when its per-customer mean absolute error is no worse than the baseline's: CLV is a
        per-customer prediction, and a total can come out right by luck (errors of opposite sign cancel)."""
        model, baseline = self.model_row(), self.scores.set_index("method").loc[BASELINE]
        return bool(model["mean_absolute_error"] <= baseline["mean_absolute_error"])

    def model_row(self) -> pd.Series:
        """The model's scores (its `method` is the purchase model's name: mbgnbd, or bgnbd after a fallback)."""
        return self.scores[self.scores["is_model"]].iloc[0]


def holdout_days_for(first_order: date, as_of: date, *, longest: int = HOLDOUT_DAYS) -> int:
    """26 weeks, or half the days from the first order to the as-of date when that is shorter."""
    return min(longest, ((as_of - first_order).days + 1) // 2)


def backtest_purchases(
    transactions: pd.DataFrame, as_of: date, *, holdout_days: int | None = None, purchase_model: str | None = None
) -> Backtest:
    """`transactions`: customer_key, order_date (completed orders up to `as_of`); `purchase_model`: the one the
    predictions use (`bgnbd` after their fallback: the calibration fit is then BG/NBD too), None when unknown."""
    days = pd.to_datetime(transactions["order_date"]).dt.floor("D")
    if holdout_days is None:
        holdout_days = holdout_days_for(days.min().date(), as_of)
    calibration_end = as_of - timedelta(days=holdout_days)
    empty = pd.DataFrame({c: pd.Series(dtype=t) for c, t in SCORE_COLUMNS.items()})
    if holdout_days < 1:
        return Backtest(empty, f"order history too short for a holdout ({holdout_days} days)")
    orders = pd.DataFrame({"customer_key": transactions["customer_key"], "day": days})
    calibration = orders[days <= pd.Timestamp(calibration_end)]
    if calibration["customer_key"].nunique() < MIN_CUSTOMERS:
        return Backtest(empty, f"fewer than {MIN_CUSTOMERS} customers bought by {calibration_end}")
    summary = calibration_summary(
        calibration, "customer_key", "day", observation_end=pd.Timestamp(calibration_end), time_unit="D"
    )
    x, t_x, t_cal = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    try:
        name, model = fit_purchase_model(
            x, t_x, t_cal, horizon=float(holdout_days), fallen_back=purchase_model == "bgnbd"
        )
    except CLVError as exc:
        return Backtest(empty, f"the calibration fit failed: {exc}")
    # purchase days in the holdout; reindexing on the calibration customers leaves out those who first bought in it
    holdout = orders[days > pd.Timestamp(calibration_end)]
    actual = holdout.drop_duplicates().groupby("customer_key").size().reindex(summary.index, fill_value=0)
    predicted = model.expected_purchases(float(holdout_days), x, t_x, t_cal)
    if not np.all(np.isfinite(predicted)):
        return Backtest(empty, f"the calibration fit is degenerate ({name}: {model.params_}), its predictions overflow")
    predictions = {
        name: predicted,
        BASELINE: np.divide(x, t_cal, out=np.zeros(len(x)), where=t_cal > 0) * holdout_days,
    }
    observed = actual.to_numpy(dtype=float)
    rows = [
        {
            "as_of_date": as_of,
            "calibration_end_date": calibration_end,
            "holdout_days": holdout_days,
            "method": method,
            "is_model": method != BASELINE,
            "customers": len(summary),
            "actual_purchases": int(observed.sum()),
            "predicted_purchases": float(predicted.sum()),
            "total_error": float(predicted.sum() - observed.sum()),
            "total_error_pct": float((predicted.sum() - observed.sum()) / max(observed.sum(), 1.0) * 100),
            "mean_absolute_error": float(np.mean(np.abs(predicted - observed))),
        }
        for method, predicted in predictions.items()
    ]
    return Backtest(pd.DataFrame(rows).astype(SCORE_COLUMNS))
