"""Per-customer RFM summaries: the sufficient statistics of the BG/NBD model.

For each customer the summary holds (Fader, Hardie & Lee 2005, section 3):

``frequency`` (x)
    number of *repeat* purchases in the observation period (purchases after the
    first one).  Purchases on the same calendar day are merged into one purchase.
``recency`` (t_x)
    time between the first and the last purchase (0 when x = 0).
``T``
    time between the first purchase and ``observation_end``.
``monetary_value`` (m_x)
    mean value of the *repeat* purchases (0 when x = 0), as in Fader, Hardie &
    Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis"
    and the Gamma-Gamma note (Fader & Hardie 2013).  The first purchase is
    excluded; same-day purchases are summed before averaging.

Time is measured in whole calendar days and then expressed in the unit chosen
with ``time_unit`` (``"D"`` days or ``"W"`` weeks = 7 days) times
``time_unit_multiplier``.  No other rescaling is ever applied: parameters fitted
on a weekly summary are per-week parameters.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ._validation import validate_rft, validate_weights
from .errors import InvalidSummaryError

__all__ = ["CompressedSummary", "calibration_summary", "compress_summary", "time_unit_in_days"]

_UNIT_DAYS = {"D": 1.0, "W": 7.0}


def time_unit_in_days(time_unit: Literal["D", "W"] = "D", time_unit_multiplier: float = 1.0) -> float:
    """Length in days of one model time unit, e.g. ``time_unit_in_days("W") == 7``."""
    if time_unit not in _UNIT_DAYS:
        raise InvalidSummaryError(f"time_unit must be one of {sorted(_UNIT_DAYS)}; got {time_unit!r}")
    if not (np.isfinite(time_unit_multiplier) and time_unit_multiplier > 0):
        raise InvalidSummaryError(f"time_unit_multiplier must be > 0; got {time_unit_multiplier!r}")
    return _UNIT_DAYS[time_unit] * float(time_unit_multiplier)


def _to_days(values: pd.Series, name: str, datetime_format: str | None) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    elif datetime_format is not None:
        try:
            parsed = pd.to_datetime(values.astype(str), format=datetime_format, errors="raise")
        except (ValueError, TypeError) as exc:
            raise InvalidSummaryError(f"column {name!r} does not match format {datetime_format!r}: {exc}") from exc
    else:
        raise InvalidSummaryError(
            f"column {name!r} must have a datetime dtype (got {values.dtype}); convert it or pass datetime_format"
        )
    missing = parsed.isna()
    if missing.any():
        raise InvalidSummaryError(f"column {name!r} has missing dates in {int(missing.sum())} rows")
    return parsed.dt.floor("D")


def calibration_summary(
    transactions: pd.DataFrame,
    customer_col: str,
    datetime_col: str,
    monetary_col: str | None = None,
    *,
    observation_end: str | pd.Timestamp,
    time_unit: Literal["D", "W"] = "D",
    time_unit_multiplier: float = 1.0,
    datetime_format: str | None = None,
) -> pd.DataFrame:
    """Build the per-customer ``(frequency, recency, T[, monetary_value])`` summary.

    Parameters
    ----------
    transactions:
        One row per transaction.
    customer_col, datetime_col, monetary_col:
        Column names of the customer id, the transaction timestamp and (optional)
        the transaction value.
    observation_end:
        Last day of the calibration period (inclusive).  Transactions after it
        are ignored, as are customers whose first purchase is after it.
    time_unit, time_unit_multiplier:
        One unit of ``recency`` and ``T`` is ``time_unit_multiplier`` days
        (``"D"``) or weeks (``"W"``).  Elapsed time is counted in whole days.
    datetime_format:
        ``strftime`` format used to parse ``datetime_col`` when it is not already
        a datetime column (e.g. ``"%Y%m%d"``).

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id (sorted), columns ``frequency`` (int64),
        ``recency``, ``T`` and, when ``monetary_col`` is given, ``monetary_value``.
    """
    if not isinstance(transactions, pd.DataFrame):
        raise InvalidSummaryError(f"transactions must be a pandas DataFrame; got {type(transactions).__name__}")
    needed = [customer_col, datetime_col] + ([monetary_col] if monetary_col is not None else [])
    absent = [c for c in needed if c not in transactions.columns]
    if absent:
        raise InvalidSummaryError(f"transactions is missing columns {absent}")
    unit_days = time_unit_in_days(time_unit, time_unit_multiplier)
    try:
        end = pd.Timestamp(observation_end).floor("D")
    except (ValueError, TypeError) as exc:
        raise InvalidSummaryError(f"observation_end is not a date: {observation_end!r}") from exc

    no_id = transactions[customer_col].isna()
    if no_id.any():
        raise InvalidSummaryError(f"column {customer_col!r} has missing customer ids in {int(no_id.sum())} rows")
    # Group on integer codes, not on the ids: pandas factorizes string ids again in every groupby below (with
    # Arrow-backed strings, 2.6 s of a 2.5M-order summary; 0.8 s on codes, plus 0.3 s to factorize once).
    # sort=True: the codes follow the sorted ids, so the per-customer order is the ids' order.
    codes, customer_ids = pd.factorize(transactions[customer_col], sort=True)
    frame = pd.DataFrame(
        {
            "customer": codes,
            "day": _to_days(transactions[datetime_col], datetime_col, datetime_format),
        }
    )
    if monetary_col is not None:
        value = transactions[monetary_col]
        if not pd.api.types.is_numeric_dtype(value) or pd.api.types.is_bool_dtype(value):
            raise InvalidSummaryError(f"column {monetary_col!r} must be numeric; got {value.dtype}")
        bad = ~np.isfinite(value.to_numpy(dtype=float))
        if bad.any():
            raise InvalidSummaryError(f"column {monetary_col!r} has NaN or infinite values in {int(bad.sum())} rows")
        frame["value"] = value.to_numpy(dtype=float)
    if getattr(frame["day"].dt, "tz", None) is not None and end.tzinfo is None:
        end = end.tz_localize(frame["day"].dt.tz)
    frame = frame[frame["day"] <= end]
    if frame.empty:
        raise InvalidSummaryError(f"no transactions on or before observation_end={end.date()}")

    # Merge same-day purchases into one purchase (amounts summed).
    daily = frame.groupby(["customer", "day"], sort=True, observed=True)
    daily = daily["value"].sum().reset_index() if monetary_col is not None else daily.size().reset_index()
    daily = daily.sort_values(["customer", "day"], kind="stable")
    per_customer = daily.groupby("customer", sort=True, observed=True)
    first = per_customer["day"].transform("min")
    days_since_first = (daily["day"] - first).dt.days.to_numpy()

    purchase_days = per_customer.size()
    out = pd.DataFrame(index=customer_ids.take(purchase_days.index.to_numpy()))
    out.index.name = customer_col
    out["frequency"] = purchase_days.to_numpy().astype(np.int64) - 1
    last = pd.Series(days_since_first, index=daily.index).groupby(daily["customer"], sort=True).max()
    out["recency"] = last.to_numpy() / unit_days
    out["T"] = (end - per_customer["day"].min()).dt.days.to_numpy() / unit_days
    if monetary_col is not None:
        is_repeat = days_since_first > 0
        repeat_sum = (
            pd.Series(np.where(is_repeat, daily["value"].to_numpy(), 0.0), index=daily.index)
            .groupby(daily["customer"], sort=True)
            .sum()
            .to_numpy()
        )
        x = out["frequency"].to_numpy()
        out["monetary_value"] = np.divide(repeat_sum, x, out=np.zeros(len(x)), where=x > 0)
    return out


class CompressedSummary(NamedTuple):
    """Unique ``(frequency, recency, T)`` rows with their total weight.

    ``inverse`` maps each original row to its unique row, so that
    ``values_unique[inverse]`` expands a per-unique-row result back.
    """

    frequency: NDArray[np.float64]
    recency: NDArray[np.float64]
    T: NDArray[np.float64]
    weights: NDArray[np.float64]
    inverse: NDArray[np.intp]


def compress_summary(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None
) -> CompressedSummary:
    """Collapse a summary to its unique ``(x, t_x, T)`` triples.

    The BG/NBD likelihood depends on a customer only through ``(x, t_x, T)``, so
    the weighted log-likelihood of the unique triples (weights = number of
    customers, or the sum of the given ``weights``) equals the log-likelihood
    of the full summary.  With day-resolution data a million customers
    typically collapse to a few tens of thousands of rows.
    """
    x, t_x, t_cal = validate_rft(frequency, recency, T)
    w = validate_weights(weights, x.shape[0])
    order = np.lexsort((t_cal, t_x, x))
    xs, ts, Ts = x[order], t_x[order], t_cal[order]
    new = np.empty(xs.shape[0], dtype=bool)
    new[0] = True
    np.not_equal(xs[1:], xs[:-1], out=new[1:])
    new[1:] |= ts[1:] != ts[:-1]
    new[1:] |= Ts[1:] != Ts[:-1]
    starts = np.flatnonzero(new)
    group = np.cumsum(new) - 1
    inverse = np.empty_like(group)
    inverse[order] = group
    return CompressedSummary(
        frequency=xs[starts],
        recency=ts[starts],
        T=Ts[starts],
        weights=np.add.reduceat(w[order], starts),
        inverse=inverse,
    )
