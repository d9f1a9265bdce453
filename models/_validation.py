"""Input validation shared by the fitters.

Inputs are checked *before* they are cast: a float frequency such as ``2.5`` is
rejected rather than silently truncated, strings are rejected rather than parsed.
Every failure raises :class:`~models.errors.InvalidSummaryError` with a message
that names the problem and the number of offending rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from .errors import InvalidSummaryError

__all__ = [
    "as_1d_float",
    "like_input",
    "validate_horizon",
    "check_frequency",
    "validate_gamma_gamma_inputs",
    "validate_rft",
    "validate_weights",
]


def _n_rows(mask: NDArray[np.bool_]) -> str:
    n = int(np.count_nonzero(mask))
    return f"{n} row{'s' if n != 1 else ''}"


def _which(mask: NDArray[np.bool_], template: object, limit: int = 5) -> str:
    """The offending rows by label when the input is a pandas Series (e.g. indexed by customer id), else by position,
    so an error names the customers to look at."""
    positions = np.flatnonzero(mask)
    if isinstance(template, pd.Series) and template.shape[0] == mask.shape[0]:
        labels = [str(v) for v in template.index[positions[:limit]]]
        kind = f"{template.index.name or 'index'}"
    else:
        labels = [str(int(i)) for i in positions[:limit]]
        kind = "row position"
    more = f", ... ({positions.size - limit} more)" if positions.size > limit else ""
    return f" ({kind}: {', '.join(labels)}{more})"


def as_1d_float(values: ArrayLike, name: str) -> NDArray[np.float64]:
    """Return ``values`` as a 1-D float64 array after checking its type.

    Accepts numpy arrays, pandas Series, lists and scalars of real numbers
    (bool is rejected).  NaN and infinite values are rejected.
    """
    raw = np.asarray(getattr(values, "to_numpy", lambda: values)())
    if raw.dtype.kind not in "iuf":
        raise InvalidSummaryError(
            f"{name} must be real numbers; got dtype {raw.dtype} ({raw.size} row{'s' if raw.size != 1 else ''})"
        )
    raw = np.atleast_1d(raw)
    if raw.ndim != 1:
        raise InvalidSummaryError(f"{name} must be one-dimensional; got shape {raw.shape}")
    arr = raw.astype(np.float64, copy=False)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise InvalidSummaryError(f"{name} contains NaN or infinite values in {_n_rows(bad)}")
    return arr


def _check_same_length(arrays: dict[str, NDArray[Any]]) -> None:
    lengths = {name: arr.shape[0] for name, arr in arrays.items()}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k}={v}" for k, v in lengths.items())
        raise InvalidSummaryError(f"inputs have mismatched lengths: {desc}")
    if next(iter(lengths.values())) == 0:
        raise InvalidSummaryError("inputs are empty (0 rows)")


def check_frequency(x: NDArray[np.float64], name: str = "frequency") -> None:
    """Frequency must be a non-negative whole number of repeat purchases."""
    neg = x < 0
    if neg.any():
        raise InvalidSummaryError(f"{name} is negative in {_n_rows(neg)}")
    frac = x != np.floor(x)
    if frac.any():
        raise InvalidSummaryError(f"{name} must be a whole number of repeat purchases; {_n_rows(frac)} are not")


def validate_rft(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Validate a BG/NBD summary ``(x, t_x, T)`` and return float64 arrays.

    Rules: equal non-zero lengths; finite; ``x`` a non-negative integer;
    ``0 <= t_x <= T``; ``t_x == 0`` when ``x == 0`` (recency is the time of the
    last *repeat* purchase, so a customer without repeat purchases has none).
    """
    x = as_1d_float(frequency, "frequency")
    t_x = as_1d_float(recency, "recency")
    t_cal = as_1d_float(T, "T")
    _check_same_length({"frequency": x, "recency": t_x, "T": t_cal})
    check_frequency(x)
    for name, arr in (("recency", t_x), ("T", t_cal)):
        neg = arr < 0
        if neg.any():
            raise InvalidSummaryError(f"{name} is negative in {_n_rows(neg)}")
    late = t_x > t_cal
    if late.any():
        raise InvalidSummaryError(
            f"recency is greater than T in {_n_rows(late)} (the last purchase cannot be after the end of "
            "the observation period)"
        )
    orphan = (x == 0) & (t_x != 0)
    if orphan.any():
        raise InvalidSummaryError(f"recency must be 0 when frequency is 0; violated in {_n_rows(orphan)}")
    return x, t_x, t_cal


def validate_weights(weights: ArrayLike | None, n: int) -> NDArray[np.float64]:
    """Validate optional per-row weights (customer counts); ``None`` means all ones."""
    if weights is None:
        return np.ones(n)
    w = as_1d_float(weights, "weights")
    if w.shape[0] != n:
        raise InvalidSummaryError(f"inputs have mismatched lengths: weights={w.shape[0]}, data={n}")
    neg = w < 0
    if neg.any():
        raise InvalidSummaryError(f"weights are negative in {_n_rows(neg)}")
    if not w.sum() > 0:
        raise InvalidSummaryError("weights sum to zero")
    return w


def validate_gamma_gamma_inputs(
    frequency: ArrayLike, monetary_value: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Validate ``(x, m_x)`` for the Gamma-Gamma model.

    The model is defined for customers with at least one repeat purchase
    (``x >= 1``) and a strictly positive mean spend (``m_x > 0``).
    """
    x = as_1d_float(frequency, "frequency")
    m = as_1d_float(monetary_value, "monetary_value")
    _check_same_length({"frequency": x, "monetary_value": m})
    check_frequency(x)
    zero = x <= 0
    if zero.any():
        raise InvalidSummaryError(
            f"frequency must be > 0 for the Gamma-Gamma model; {_n_rows(zero)} have frequency 0"
            f"{_which(zero, frequency)} (keep only repeat customers)"
        )
    nonpos = m <= 0
    if nonpos.any():
        raise InvalidSummaryError(
            f"monetary_value must be > 0; {_n_rows(nonpos)} are <= 0{_which(nonpos, monetary_value)} "
            "(leave customers whose average repeat spend is not positive out of the Gamma-Gamma fit)"
        )
    return x, m


def validate_horizon(t: ArrayLike, name: str = "t") -> NDArray[np.float64]:
    """A prediction horizon: finite, non-negative, scalar or array (shape kept)."""
    raw = np.asarray(getattr(t, "to_numpy", lambda: t)())
    if raw.dtype.kind not in "iuf":
        raise InvalidSummaryError(f"{name} must be real numbers; got dtype {raw.dtype}")
    arr = raw.astype(np.float64)
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        raise InvalidSummaryError(f"{name} must be finite and >= 0; violated in {int(np.count_nonzero(bad))} rows")
    return arr


def like_input(result: NDArray[np.float64], template: object, name: str) -> Any:
    """Return ``result`` as a pandas Series indexed like ``template`` when it is one."""
    if isinstance(template, pd.Series) and result.ndim == 1 and result.shape[0] == template.shape[0]:
        return pd.Series(result, index=template.index, name=name)
    return result
