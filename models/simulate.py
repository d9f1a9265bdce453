"""Draw synthetic customer summaries from the BG/NBD and Gamma-Gamma models.

Used to test parameter recovery; fully vectorised and seeded through a
:class:`numpy.random.Generator`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from .bgnbd import BetaGeoParams
from .errors import InvalidSummaryError
from .gamma_gamma import GammaGammaParams

__all__ = ["simulate_bgnbd_summary", "simulate_gamma_gamma_spend"]


def simulate_bgnbd_summary(
    params: BetaGeoParams,
    T: ArrayLike,
    *,
    rng: np.random.Generator,
    time_resolution: float | None = None,
) -> pd.DataFrame:
    """Simulate ``(frequency, recency, T)`` for customers observed for ``T`` time units.

    Generative process (FHL 2005, section 3): ``lambda ~ Gamma(r, rate=alpha)``,
    ``p ~ Beta(a, b)``; repeat purchases follow a Poisson(lambda) process and the
    customer dies after each repeat purchase with probability ``p``.  Hence the
    number of repeat purchases the customer lives to make is ``K ~ Geometric(p)``
    on ``{1, 2, ...}``, the Poisson count in ``(0, T]`` is ``N``, ``x = min(K, N)``
    and, given ``N``, ``t_x`` is the ``x``-th order statistic of ``N`` uniforms on
    ``(0, T]``, i.e. ``T * Beta(x, N - x + 1)``.

    ``time_resolution`` (optional) rounds ``t_x`` to that grid (e.g. ``1/7`` for
    whole days in a weekly model), mimicking day-stamped transactions; ``T``
    should then already lie on the grid.
    """
    t_cal = np.asarray(T, dtype=float)
    if t_cal.ndim != 1 or np.any(~np.isfinite(t_cal)) or np.any(t_cal < 0):
        raise InvalidSummaryError("T must be a 1-D array of finite values >= 0")
    n = t_cal.shape[0]
    lam = rng.gamma(params.r, 1.0 / params.alpha, n)
    p = np.clip(rng.beta(params.a, params.b, n), 1e-12, 1.0)
    k = rng.geometric(p)
    n_arrivals = rng.poisson(lam * t_cal)
    x = np.minimum(k, n_arrivals)
    t_x = np.zeros(n)
    rep = x > 0
    t_x[rep] = t_cal[rep] * rng.beta(x[rep], n_arrivals[rep] - x[rep] + 1)
    if time_resolution is not None:
        t_x = np.minimum(np.round(t_x / time_resolution) * time_resolution, t_cal)
    return pd.DataFrame({"frequency": x.astype(np.int64), "recency": t_x, "T": t_cal})


def simulate_gamma_gamma_spend(
    params: GammaGammaParams, frequency: ArrayLike, *, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Simulate the mean spend ``m_x`` of ``x`` transactions per customer (FH 2013, section 2).

    ``nu ~ Gamma(q, rate=gamma)``; each transaction ``z ~ Gamma(p, rate=nu)`` so
    the mean of ``x`` transactions is ``Gamma(p x, rate=nu x)``.  Returns 0 where
    ``x == 0``.
    """
    x = np.asarray(frequency, dtype=float)
    nu = rng.gamma(params.q, 1.0 / params.gamma, x.shape[0])
    out = np.zeros(x.shape[0])
    rep = x > 0
    out[rep] = rng.gamma(params.p * x[rep], 1.0 / (nu[rep] * x[rep]))
    return out
