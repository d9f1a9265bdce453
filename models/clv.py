"""Discounted customer lifetime value from a BG/NBD and a Gamma-Gamma model.

Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer
Base Analysis", *Journal of Marketing Research* 42(4): CLV = expected
(discounted) number of future purchases x expected spend per purchase x margin.
As in ``lifetimes``, the discounting is done month by month:

``CLV = sum_{i=1..H} (E[Y(i)] - E[Y(i-1)]) * E[M] * margin / (1 + d)^i``

where ``E[Y(i)]`` is the BG/NBD conditional expectation (FHL 2005 eq. 10) of
the purchases in the first ``i`` months after the end of the calibration period
and ``E[M]`` the Gamma-Gamma conditional expected spend (FH 2013, conditional expectation of M).

Units: ``time_unit_days`` is the length in days of the BG/NBD model's time
unit (7 for a weekly summary, 1 for a daily one) and ``days_per_month`` the
length of a month in days (default 365.25 / 12); one month is therefore
``days_per_month / time_unit_days`` model time units.  The result is in the
currency of ``monetary_value``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import like_input, validate_rft
from .bgnbd import BetaGeoFitter
from .errors import InvalidSummaryError
from .gamma_gamma import GammaGammaFitter

__all__ = ["DAYS_PER_MONTH", "customer_lifetime_value"]

DAYS_PER_MONTH = 365.25 / 12.0


def customer_lifetime_value(
    bgnbd: BetaGeoFitter,
    gg: GammaGammaFitter,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    *,
    time_unit_days: float,
    horizon_months: int = 12,
    monthly_discount_rate: float = 0.01,
    margin: float = 1.0,
    days_per_month: float = DAYS_PER_MONTH,
    expected_spend: ArrayLike | None = None,
) -> Any:
    """Discounted CLV over ``horizon_months`` months for each customer.

    Parameters
    ----------
    bgnbd, gg:
        Fitted models (neither is modified).
    frequency, recency, T:
        BG/NBD summary in the model's time unit.
    monetary_value:
        Mean repeat-purchase value (ignored, and may be 0, where frequency is 0).
    time_unit_days:
        Days per model time unit (7 for weeks).  Required: it is the only link
        between the model's clock and calendar months.
    horizon_months, monthly_discount_rate, margin, days_per_month:
        Horizon, discount rate per month, profit margin applied to spend, days
        in a month.
    expected_spend:
        Expected spend per transaction per customer, when the caller computed it
        (e.g. from ``gg.conditional_expected_average_profit`` with frequency 0
        for customers left out of the spend model); default: Gamma-Gamma's
        conditional expectation from ``frequency`` and ``monetary_value``.

    Returns
    -------
    numpy.ndarray, or pandas.Series indexed like ``frequency`` when it is one.
    """
    if isinstance(horizon_months, bool) or not isinstance(horizon_months, int | np.integer) or horizon_months < 1:
        raise InvalidSummaryError(f"horizon_months must be a positive integer; got {horizon_months!r}")
    for name, value, low in (
        ("time_unit_days", time_unit_days, 0.0),
        ("days_per_month", days_per_month, 0.0),
        ("monthly_discount_rate", monthly_discount_rate, -1.0),
    ):
        if not (np.isfinite(value) and value > low):
            raise InvalidSummaryError(f"{name} must be finite and > {low:g}; got {value!r}")
    if not np.isfinite(margin):
        raise InvalidSummaryError(f"margin must be finite; got {margin!r}")

    params = bgnbd._params()
    x, t_x, t_cal = validate_rft(frequency, recency, T)
    if expected_spend is None:
        expected_spend = gg.conditional_expected_average_profit(frequency, monetary_value)
    spend = np.asarray(getattr(expected_spend, "to_numpy", lambda: expected_spend)(), dtype=float)
    if spend.shape != x.shape:
        raise InvalidSummaryError(
            f"inputs have mismatched lengths: frequency={x.shape[0]}, monetary_value={spend.shape[0]}"
        )

    months = np.arange(0, horizon_months + 1, dtype=float)
    t_grid = months * (days_per_month / time_unit_days)
    cumulative = type(bgnbd)._conditional_expectation(params, t_grid[:, None], x, t_x, t_cal)
    cumulative[0] = 0.0  # E[Y(0)] = 0 exactly
    increments = np.diff(cumulative, axis=0)
    discount = (1.0 + monthly_discount_rate) ** -months[1:]
    clv = (discount @ increments) * spend * margin
    return like_input(np.asarray(clv, dtype=float), frequency, "clv")
