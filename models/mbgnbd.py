"""MBG/NBD: the BG/NBD model with dropout possible at the first purchase too.

Batislam, E. P., Denizel, M. & Filiztekin, A. (2007). "Empirical validation and comparison of models for customer
base analysis", *International Journal of Research in Marketing* 24(3), 201-209 (abbreviated BDF 2007 below).

Model: as BG/NBD (Fader, Hardie & Lee 2005), a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)`` while
alive and drops out with probability ``p ~ Beta(a, b)`` right after *every* purchase, the first one included. A
customer who never came back may therefore have left at once: BG/NBD's P(alive) is 1 for every one-time buyer (it
can only drop a customer after a repeat purchase), MBG/NBD's falls with the time since the first purchase. Same
parameters, same time-unit rules and the same numerics as :mod:`models.bgnbd`, which this class reuses; only the
likelihood, P(alive) and the expectation's constants differ.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaln, digamma, gammaln

from ._validation import validate_rft
from .bgnbd import BetaGeoFitter, BetaGeoParams, _Sufficient, timing_terms

__all__ = ["ModifiedBetaGeoFitter", "mbgnbd_log_likelihood"]


def mbgnbd_log_likelihood(
    params: BetaGeoParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> NDArray[np.float64]:
    """Per-customer log-likelihood (BDF 2007, eq. 5):

    ``L = G(r+x) alpha^r / G(r) * [B(a, b+x+1)/B(a, b) (alpha+T)^-(r+x) + B(a+1, b+x)/B(a, b) (alpha+t_x)^-(r+x)]``;
    the second term (dropped out right after the last purchase) exists for ``x = 0`` too.
    """
    x, t_x, t_cal = validate_rft(frequency, recency, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    a1 = betaln(a, b + x + 1.0) - betaln(a, b) - (r + x) * np.log(alpha + t_cal)
    a2 = betaln(a + 1.0, b + x) - betaln(a, b) - (r + x) * np.log(alpha + t_x)
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) + np.logaddexp(a1, a2)


def _neg_mean_ll_and_grad(theta: NDArray[np.float64], s: _Sufficient) -> tuple[float, NDArray[np.float64]]:
    """Mean negative log-likelihood and its gradient in log-parameters (derivatives of BDF 2007 eq. 5)."""
    r, alpha, a, b = np.exp(theta)
    ux = s.ux
    lb = betaln(a, b)
    b1 = betaln(a, b + ux + 1.0) - lb
    b2 = betaln(a + 1.0, b + ux) - lb
    ll, d_r, d_alpha, w2 = timing_terms(r, alpha, b1, b2, s)  # w2: "dropped out right after the last purchase"
    w = s.w
    psi_ab, psi_abx1 = digamma(a + b), digamma(a + b + ux + 1.0)
    d_a = w @ (psi_ab - psi_abx1)[s.ix] + (w @ w2) / a
    d_b = w @ ((digamma(b + ux + 1.0) - digamma(b) + psi_ab - psi_abx1)[s.ix] - w2 / (b + s.x))
    grad = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return -ll / s.total_w, -grad / s.total_w


class ModifiedBetaGeoFitter(BetaGeoFitter):
    """MBG/NBD model (BDF 2007) fitted by maximum likelihood; configuration, attributes and units as
    :class:`~models.bgnbd.BetaGeoFitter`.

    :meth:`probability_alive` is ``1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x))`` for every customer (BDF 2007
    eq. 6), and :meth:`expected_purchases` is
    ``(a+b+x)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x+1; a+b+x; t/(alpha+T+t))] * P(alive)``
    (BDF 2007 eq. 7), evaluated with the same Euler transformation as BG/NBD's eq. 10.
    """

    _neg_mean_ll_and_grad = staticmethod(_neg_mean_ll_and_grad)
    _c_offset = 0.0  # c = a + b + x

    @staticmethod
    def _log_odds_dead(
        p: BetaGeoParams, x: NDArray[np.float64], t_x: NDArray[np.float64], t_cal: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        return np.log(p.a) - np.log(p.b + x) + (p.r + x) * (np.log(p.alpha + t_cal) - np.log(p.alpha + t_x))
