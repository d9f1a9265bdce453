"""Fit BG/NBD + Gamma-Gamma on the warehouse's completed orders and predict each customer's next 12 months.

Pure function of a transactions frame, so it is testable without Dagster; the asset only does the I/O.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from models import BetaGeoFitter, GammaGammaFitter, calibration_summary, customer_lifetime_value
from models.clv import DAYS_PER_MONTH


@dataclass(frozen=True)
class ClvFit:
    predictions: pd.DataFrame  # one row per customer_key
    diagnostics: dict[str, float | int | bool]


def fit_clv(
    transactions: pd.DataFrame,
    as_of: date,
    *,
    horizon_months: int = 12,
    monthly_discount_rate: float = 0.01,
    margin: float = 1.0,
) -> ClvFit:
    """`transactions`: customer_key, order_date, amount (completed orders, reporting currency); time unit = days."""
    started = time.perf_counter()
    summary = calibration_summary(
        transactions, "customer_key", "order_date", "amount", observation_end=pd.Timestamp(as_of), time_unit="D"
    )
    bgnbd = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    repeat = summary[summary["frequency"] > 0]
    gamma_gamma = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    fitted_s = time.perf_counter() - started

    x, t_x, t_cal, m = (summary[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value"))
    horizon_days = horizon_months * DAYS_PER_MONTH
    m = np.where(x > 0, m, 0.0)  # no repeat purchase: GG falls back to the population mean spend
    expected_spend = gamma_gamma.conditional_expected_average_profit(x, m)
    clv = customer_lifetime_value(
        bgnbd, gamma_gamma, x, t_x, t_cal, m,
        time_unit_days=1.0, horizon_months=horizon_months, monthly_discount_rate=monthly_discount_rate, margin=margin,
    )  # fmt: skip
    predictions = pd.DataFrame(
        {
            "customer_key": summary.index,
            "as_of_date": as_of,
            "frequency": x.astype("int64"),
            "recency_days": t_x,
            "tenure_days": t_cal,
            "average_repeat_order_value": np.where(x > 0, m, np.nan),
            "probability_alive": bgnbd.probability_alive(x, t_x, t_cal),
            "expected_purchases_next_12_months": bgnbd.expected_purchases(horizon_days, x, t_x, t_cal),
            "expected_average_order_value": expected_spend,
            "predicted_clv_12_months": np.asarray(clv, dtype=float),
        }
    )
    bg, gg = bgnbd.params_, gamma_gamma.params_
    diagnostics = {
        "customers": len(summary),
        "repeat_customers": len(repeat),
        "bgnbd_r": bg.r,
        "bgnbd_alpha_days": bg.alpha,
        "bgnbd_a": bg.a,
        "bgnbd_b": bg.b,
        "bgnbd_log_likelihood": bgnbd.log_likelihood_,
        "gamma_gamma_p": gg.p,
        "gamma_gamma_q": gg.q,
        "gamma_gamma_gamma": gg.gamma,
        "gamma_gamma_log_likelihood": gamma_gamma.log_likelihood_,
        "converged": bool(bgnbd.converged_ and gamma_gamma.converged_),
        "fit_seconds": round(fitted_s, 3),
        "mean_predicted_clv_12_months": float(np.mean(clv)),
    }
    return ClvFit(predictions=predictions, diagnostics=diagnostics)
