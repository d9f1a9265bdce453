"""BG/NBD model of repeat-purchase counts.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "'Counting Your Customers'
the Easy Way: An Alternative to the Pareto/NBD Model", *Marketing Science*
24(2), 275-284 (abbreviated FHL 2005 below).

Model: while alive, a customer buys according to a Poisson process with rate
``lambda ~ Gamma(r, alpha)`` (shape ``r``, rate ``alpha``); after every repeat
purchase the customer drops out with probability ``p ~ Beta(a, b)``.

Time units
----------
The model has no time unit of its own: ``recency``, ``T`` and every horizon
``t`` must be in the unit of the summary the model was fitted on (for example
weeks when :func:`models.summary.calibration_summary` was called with
``time_unit="W"``).  ``alpha`` carries that unit (``r / alpha`` is the mean
purchase rate per unit); ``r``, ``a`` and ``b`` are unit-free.  No hidden
rescaling of time is applied anywhere (unlike ``lifetimes``, which divides by
``max(T)``): the optimiser works on ``log(alpha)`` directly, so changing the
unit from weeks to days changes only ``alpha`` (by exactly a factor of 7) and
the log-likelihood (by ``sum(x) * log(7)``, the Jacobian of the densities).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from ._optimize import maximize_log_likelihood
from ._validation import like_input, validate_horizon, validate_rft
from .errors import NotFittedError
from .summary import compress_summary

__all__ = ["BetaGeoFitter", "BetaGeoParams", "bgnbd_log_likelihood"]


@dataclass(frozen=True)
class BetaGeoParams:
    """Fitted BG/NBD parameters; ``alpha`` is in the time unit of the fitting summary."""

    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def bgnbd_log_likelihood(
    params: BetaGeoParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> NDArray[np.float64]:
    """Per-customer log-likelihood ``ln L(r, alpha, a, b | x, t_x, T)`` (FHL 2005, eq. 6).

    ``L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
    + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))``,
    evaluated in log space (``gammaln``, ``betaln``, ``logaddexp``) so that it
    stays finite for very large ``x``.
    """
    x, t_x, t_cal = validate_rft(frequency, recency, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    with np.errstate(invalid="ignore", divide="ignore"):
        a1 = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + t_cal)
        a2 = np.where(x > 0, betaln(a + 1.0, b + x - 1.0) - betaln(a, b) - (r + x) * np.log(alpha + t_x), -np.inf)
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) + np.logaddexp(a1, a2)


class _Sufficient:
    """Weighted unique triples, with codes into the unique values of x, T and t_x.

    Special functions then only need to be evaluated on the (few) distinct
    values of ``x`` and logarithms on the distinct values of ``T`` and ``t_x``;
    the per-row work of one likelihood evaluation is a handful of array ops.
    """

    def __init__(
        self,
        x: NDArray[np.float64],
        t_x: NDArray[np.float64],
        t_cal: NDArray[np.float64],
        w: NDArray[np.float64],
    ):
        self.x, self.w = x, w
        self.total_w = float(w.sum())
        self.ux, self.ix = np.unique(x, return_inverse=True)
        self.uT, self.iT = np.unique(t_cal, return_inverse=True)
        self.ut, self.it = np.unique(t_x, return_inverse=True)
        self.repeat_u = self.ux > 0


def timing_terms(
    r: float, alpha: float, b1: NDArray[np.float64], b2: NDArray[np.float64], s: _Sufficient
) -> tuple[float, float, float, NDArray[np.float64]]:
    """The part of the BG/NBD and MBG/NBD likelihoods shared by both: ``(ll, d ll/d r, d ll/d alpha, w2)``.

    ``b1``/``b2`` are the log beta ratios (per unique x) of "alive at T" and "dropped out after the last purchase";
    ``w2`` is each row's posterior weight of the second, from which the caller gets its ``a`` and ``b`` derivatives.
    """
    ux = s.ux
    g_x = gammaln(r + ux) - gammaln(r)
    l_T = np.log(alpha + s.uT)
    l_t = np.log(alpha + s.ut)
    rx = r + s.x
    lT_row, lt_row = l_T[s.iT], l_t[s.it]
    a1 = b1[s.ix] - rx * lT_row
    a2 = b2[s.ix] - rx * lt_row
    lse = np.logaddexp(a1, a2)
    w = s.w
    ll = w @ (g_x[s.ix] + lse) + s.total_w * r * np.log(alpha)
    w2 = np.exp(a2 - lse)
    w1 = 1.0 - w2
    dg_x = digamma(r + ux) - digamma(r)
    d_r = w @ (dg_x[s.ix] - w1 * lT_row - w2 * lt_row) + s.total_w * np.log(alpha)
    d_alpha = s.total_w * r / alpha - w @ (rx * (w1 * np.exp(-lT_row) + w2 * np.exp(-lt_row)))
    return float(ll), float(d_r), float(d_alpha), w2


def _neg_mean_ll_and_grad(theta: NDArray[np.float64], s: _Sufficient) -> tuple[float, NDArray[np.float64]]:
    r, alpha, a, b = np.exp(theta)
    ux, rep = s.ux, s.repeat_u
    # Quantities depending on x only, evaluated on the unique x values.
    lb = betaln(a, b)
    b1 = betaln(a, b + ux) - lb
    b2 = np.full_like(ux, -np.inf)
    b2[rep] = betaln(a + 1.0, b + ux[rep] - 1.0) - lb
    ll, d_r, d_alpha, w2 = timing_terms(r, alpha, b1, b2, s)  # w2: "dropped out after the last purchase"
    w = s.w
    psi_ab = digamma(a + b)
    psi_abx = digamma(a + b + ux)
    da1_a = psi_ab - psi_abx
    da1_b = digamma(b + ux) - digamma(b) + psi_ab - psi_abx
    inv_bx1 = np.zeros_like(ux)
    inv_bx1[rep] = 1.0 / (b + ux[rep] - 1.0)
    d_a = w @ da1_a[s.ix] + (w @ w2) / a
    d_b = w @ (da1_b[s.ix] - w2 * inv_bx1[s.ix])
    grad = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return -ll / s.total_w, -grad / s.total_w


class BetaGeoFitter:
    """BG/NBD model (Fader, Hardie & Lee 2005) fitted by maximum likelihood.

    Parameters (keyword-only)
    -------------------------
    max_iter:
        Maximum number of L-BFGS-B iterations.
    tol:
        ``ftol`` of L-BFGS-B on the mean negative log-likelihood (``gtol`` is
        ``100 * tol``).
    initial_params:
        Optional starting ``BetaGeoParams``; by default ``r = a = b = 1`` and
        ``alpha`` from the observed purchase rate.

    Attributes set by :meth:`fit`
    -----------------------------
    params_ : BetaGeoParams
    log_likelihood_ : float
        Total (weighted) log-likelihood at the optimum, FHL 2005 eq. 6 summed.
    converged_ : bool
    optimizer_message_ : str
    n_iter_ : int
    n_customers_ : float
        Number of customers (sum of the weights).
    n_unique_ : int
        Number of distinct ``(x, t_x, T)`` rows the likelihood was evaluated on.
    """

    #: The likelihood and its gradient (FHL 2005 eq. 6); MBG/NBD overrides it.
    _neg_mean_ll_and_grad = staticmethod(_neg_mean_ll_and_grad)
    #: ``c = a + b + x + _c_offset`` in the expectation (FHL 2005 eq. 10: ``a+b+x-1``; MBG/NBD: ``a+b+x``).
    _c_offset = -1.0

    def __init__(self, *, max_iter: int = 1000, tol: float = 1e-12, initial_params: BetaGeoParams | None = None):
        self.max_iter = max_iter
        self.tol = tol
        self.initial_params = initial_params

    # ------------------------------------------------------------------ fit
    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None) -> Self:
        """Estimate ``(r, alpha, a, b)`` by maximising FHL 2005 eq. 6 summed over customers.

        ``frequency`` = number of repeat purchases ``x``; ``recency`` = ``t_x``;
        ``T`` = time since first purchase; all in one time unit.  ``weights``
        (optional) are customer counts per row.  The summary is first
        compressed to unique ``(x, t_x, T)`` triples (see
        :func:`models.summary.compress_summary`), which leaves the likelihood
        unchanged.

        Raises
        ------
        InvalidSummaryError
            for an invalid summary (see :func:`models._validation.validate_rft`).
        ConvergenceError
            if the optimiser does not converge.
        """
        comp = compress_summary(frequency, recency, T, weights)
        keep = comp.weights > 0
        s = _Sufficient(comp.frequency[keep], comp.recency[keep], comp.T[keep], comp.weights[keep])
        if self.initial_params is not None:
            p0 = self.initial_params
            theta0 = np.log([p0.r, p0.alpha, p0.a, p0.b])
        else:
            mean_x = float(s.w @ s.x) / s.total_w
            mean_T = float(s.w @ comp.T[keep]) / s.total_w
            alpha0 = max(mean_T, 1e-6) / max(mean_x, 1e-2)
            theta0 = np.log([1.0, alpha0, 1.0, 1.0])
        objective = self._neg_mean_ll_and_grad
        result = maximize_log_likelihood(
            lambda th: objective(th, s),
            theta0,
            ("r", "alpha", "a", "b"),
            max_iter=self.max_iter,
            tol=self.tol,
        )
        r, alpha, a, b = (float(v) for v in np.exp(result.log_params))
        self.params_ = BetaGeoParams(r=r, alpha=alpha, a=a, b=b)
        self.log_likelihood_ = result.mean_log_likelihood * s.total_w
        self.converged_ = True
        self.optimizer_message_ = result.message
        self.n_iter_ = result.n_iter
        w_total = s.total_w
        self.n_customers_ = int(w_total) if float(w_total).is_integer() else w_total
        self.n_unique_ = int(s.x.shape[0])
        return self

    def _params(self) -> BetaGeoParams:
        params = getattr(self, "params_", None)
        if params is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit() first")
        return params

    # ---------------------------------------------------------- predictions
    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Any:
        """``P(alive | x, t_x, T)`` at the end of the observation period.

        ``1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``
        (FHL 2005 eq. 10 denominator; Fader, Hardie & Lee 2008, "Computing
        P(alive) Using the BG/NBD Model").  Evaluated with ``expit`` of the
        log-odds, so it does not overflow for large ``x``.
        """
        p = self._params()
        x, t_x, t_cal = validate_rft(frequency, recency, T)
        return like_input(expit(-self._log_odds_dead(p, x, t_x, t_cal)), frequency, "probability_alive")

    @staticmethod
    def _log_odds_dead(
        p: BetaGeoParams, x: NDArray[np.float64], t_x: NDArray[np.float64], t_cal: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        rep = x > 0
        out = np.full(x.shape, -np.inf)
        xr = x[rep]
        out[rep] = (
            np.log(p.a)
            - np.log(p.b + xr - 1.0)
            + (p.r + xr) * (np.log(p.alpha + t_cal[rep]) - np.log(p.alpha + t_x[rep]))
        )
        return out

    def expected_purchases(self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Any:
        """``E[Y(t) | x, t_x, T]``: expected purchases in ``(T, T+t]`` (FHL 2005, eq. 10).

        ``E = (a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x)
        2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))] * P(alive)``.

        Numerically, the Gauss hypergeometric term is rewritten with Euler's
        transformation ``2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z)``
        into ``(1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``, which tends to 1 as
        ``x`` grows instead of overflowing (the original form multiplies a
        vanishing power by an exploding series for ``x`` in the thousands).
        ``t`` is in the model's time unit and broadcasts against the customers.
        The formula is singular at exactly ``a = 1``.
        """
        p = self._params()
        x, t_x, t_cal = validate_rft(frequency, recency, T)
        tt = validate_horizon(t)
        out = self._conditional_expectation(p, tt, x, t_x, t_cal)
        return like_input(out, frequency, "expected_purchases")

    @classmethod
    def _conditional_expectation(
        cls,
        p: BetaGeoParams,
        t: NDArray[np.float64],
        x: NDArray[np.float64],
        t_x: NDArray[np.float64],
        t_cal: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        unconditional = cls._expected_count(p, t, p.alpha + t_cal, x)
        return unconditional * expit(-cls._log_odds_dead(p, x, t_x, t_cal))

    def expected_purchases_new_customer(self, t: ArrayLike) -> NDArray[np.float64]:
        """``E[X(t)]``: expected repeat purchases in ``(0, t]`` of a new customer (FHL 2005, eq. 9).

        ``E = (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]``
        (evaluated with the same Euler transformation as :meth:`expected_purchases`).
        """
        p = self._params()
        tt = validate_horizon(t)
        zeros = np.zeros(np.shape(tt))
        # The conditional expectation at x = t_x = T = 0: for MBG/NBD this includes dropping out at the first purchase.
        return self._conditional_expectation(p, tt, zeros, zeros, zeros)

    @classmethod
    def _expected_count(
        cls,
        p: BetaGeoParams,
        t: NDArray[np.float64],
        alpha_T: NDArray[np.float64] | np.float64,
        x: NDArray[np.float64] | np.float64,
    ) -> NDArray[np.float64]:
        """Expected purchases in ``(T, T+t]`` of a customer alive at ``T`` (``alpha_T = alpha + T``)."""
        return euler_expected_count(p, t, alpha_T, x, p.a + p.b + x + cls._c_offset)


def euler_expected_count(
    p: BetaGeoParams,
    t: NDArray[np.float64],
    alpha_T: NDArray[np.float64] | np.float64,
    x: NDArray[np.float64] | np.float64,
    c: NDArray[np.float64] | np.float64,
) -> NDArray[np.float64]:
    """``c/(a-1) [1 - (1-z)^(a-1) 2F1(c-r-x, a-1; c; z)]``, ``z = t/(alpha+T+t)``: the expected purchases of a
    customer alive at T, for BG/NBD (``c = a+b+x-1``) and MBG/NBD (``c = a+b+x``) alike (Euler's transformation of
    the printed ``2F1(r+x, b+x[+1]; c; z)``, see :meth:`BetaGeoFitter.expected_purchases`)."""
    r, a = p.r, p.a
    z = t / (alpha_T + t)
    f = hyp2f1(c - r - x, a - 1.0, c, z)
    log_pow = (a - 1.0) * np.log1p(-z)
    with np.errstate(invalid="ignore", divide="ignore"):
        bracket = np.where(f > 0, -np.expm1(log_pow + np.log(np.where(f > 0, f, 1.0))), 1.0 - np.exp(log_pow) * f)
    return np.asarray(c / (a - 1.0) * bracket, dtype=np.float64)
