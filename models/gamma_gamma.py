"""Gamma-Gamma model of the average transaction value.

Fader, P. S. & Hardie, B. G. S. (2013). "The Gamma-Gamma Model of Monetary
Value", http://brucehardie.com/notes/025/ (abbreviated FH 2013), building on
Fader, Hardie & Lee (2005). "RFM and CLV: Using Iso-Value Curves for Customer
Base Analysis", *Journal of Marketing Research* 42(4), 415-430.

Model: the value ``z_i`` of each transaction of a customer is
``Gamma(p, nu)``; across customers ``nu ~ Gamma(q, gamma)``.  The observed mean
``m_x`` of ``x`` transactions is then ``Gamma(p x, nu x)`` given ``nu``.  The
model is fitted on customers with ``x >= 1`` repeat purchases, ``m_x`` being
the mean value of those repeat purchases (first purchase excluded), and assumes
spend is independent of the purchase process.  ``gamma`` is in the currency
unit of ``monetary_value``; ``p`` and ``q`` are unit-free.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln

from ._optimize import maximize_log_likelihood
from ._validation import (
    _which,
    as_1d_float,
    check_frequency,
    like_input,
    validate_gamma_gamma_inputs,
    validate_weights,
)
from .errors import InvalidSummaryError, NotFittedError

__all__ = ["GammaGammaFitter", "GammaGammaParams", "gamma_gamma_log_likelihood"]


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters (``gamma`` in the currency unit of the data)."""

    p: float
    q: float
    gamma: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _ll_terms(p: float, q: float, gamma: float, x: NDArray[np.float64], m: NDArray[np.float64]) -> NDArray[np.float64]:
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + m * x)
    )


def gamma_gamma_log_likelihood(
    params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike
) -> NDArray[np.float64]:
    """Per-customer log-likelihood of the mean spend ``m_x`` (FH 2013).

    The ``Gamma(p x, nu x)`` density of ``m_x`` integrated over ``nu ~ Gamma(q, gamma)``:

    ``L = G(px+q) / (G(px) G(q)) * gamma^q m_x^(px-1) x^(px) / (gamma + m_x x)^(px+q)``.
    """
    x, m = validate_gamma_gamma_inputs(frequency, monetary_value)
    return _ll_terms(params.p, params.q, params.gamma, x, m)


def _neg_mean_ll_and_grad(
    theta: NDArray[np.float64], x: NDArray[np.float64], m: NDArray[np.float64], w: NDArray[np.float64]
) -> tuple[float, NDArray[np.float64]]:
    p, q, gamma = np.exp(theta)
    total_w = w.sum()
    px = p * x
    xm = x * m
    ll = w @ _ll_terms(p, q, gamma, x, m)
    psi_pxq = digamma(px + q)
    log_gxm = np.log(gamma + xm)
    d_p = w @ (x * (psi_pxq - digamma(px) + np.log(m) + np.log(x) - log_gxm))
    d_q = w @ (psi_pxq - log_gxm) + total_w * (np.log(gamma) - digamma(q))
    d_gamma = total_w * q / gamma - w @ ((px + q) / (gamma + xm))
    grad = np.array([d_p * p, d_q * q, d_gamma * gamma])
    return -ll / total_w, -grad / total_w


class GammaGammaFitter:
    """Gamma-Gamma spend model (Fader & Hardie 2013) fitted by maximum likelihood.

    Parameters (keyword-only)
    -------------------------
    max_iter, tol:
        L-BFGS-B iteration limit and ``ftol`` on the mean negative log-likelihood.

    Attributes set by :meth:`fit`
    -----------------------------
    params_ : GammaGammaParams
    log_likelihood_ : float
    converged_ : bool
    optimizer_message_ : str
    n_iter_ : int
    n_customers_ : float
        Number of customers (sum of the weights).
    """

    def __init__(self, *, max_iter: int = 1000, tol: float = 1e-12):
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, frequency: ArrayLike, monetary_value: ArrayLike, weights: ArrayLike | None = None) -> Self:
        """Estimate ``(p, q, gamma)`` from repeat customers.

        ``frequency`` must be ``>= 1`` and ``monetary_value`` (mean value of the
        repeat purchases) ``> 0`` for every row; filter out one-time buyers first.

        Raises
        ------
        InvalidSummaryError
            on frequency <= 0, monetary_value <= 0, NaN, mismatched lengths, ...
        ConvergenceError
            if the optimiser does not converge.
        """
        x, m = validate_gamma_gamma_inputs(frequency, monetary_value)
        w = validate_weights(weights, x.shape[0])
        keep = w > 0
        x, m, w = x[keep], m[keep], w[keep]
        # Method-of-moments style start: E[M] = p gamma / (q - 1).
        mean_m = float(w @ m / w.sum())
        theta0 = np.log([1.0, 2.0, mean_m])
        result = maximize_log_likelihood(
            lambda th: _neg_mean_ll_and_grad(th, x, m, w),
            theta0,
            ("p", "q", "gamma"),
            max_iter=self.max_iter,
            tol=self.tol,
        )
        p, q, gamma = (float(v) for v in np.exp(result.log_params))
        self.params_ = GammaGammaParams(p=p, q=q, gamma=gamma)
        self.log_likelihood_ = result.mean_log_likelihood * float(w.sum())
        self.converged_ = True
        self.optimizer_message_ = result.message
        self.n_iter_ = result.n_iter
        total = float(w.sum())
        self.n_customers_ = int(total) if total.is_integer() else total
        return self

    def _params(self) -> GammaGammaParams:
        params = getattr(self, "params_", None)
        if params is None:
            raise NotFittedError("GammaGammaFitter is not fitted yet; call fit() first")
        return params

    def expected_average_spend(self) -> float:
        """Population mean transaction value ``E[Z] = p gamma / (q - 1)`` (FH 2013, section 3).

        Requires ``q > 1``.
        """
        prm = self._params()
        if prm.q <= 1:
            raise InvalidSummaryError(f"the mean spend is infinite for q <= 1 (q={prm.q:.4g})")
        return prm.p * prm.gamma / (prm.q - 1.0)

    def conditional_expected_average_profit(self, frequency: ArrayLike, monetary_value: ArrayLike) -> Any:
        """Conditional expected spend per transaction (FH 2013).

        ``E[M | p, q, gamma, m_x, x] = p (gamma + m_x x) / (p x + q - 1)``.

        A weighted average of the population mean ``p gamma / (q - 1)`` and the
        customer's own mean ``m_x``, with weight ``p x / (p x + q - 1)`` on the
        latter.  ``frequency`` may be 0 (then ``monetary_value`` is ignored and
        the population mean is returned); ``monetary_value`` must be ``> 0``
        where ``frequency > 0``.  Requires ``q > 1``.
        """
        prm = self._params()
        x = as_1d_float(frequency, "frequency")
        m = as_1d_float(monetary_value, "monetary_value")
        if x.shape != m.shape:
            raise InvalidSummaryError(
                f"inputs have mismatched lengths: frequency={x.shape[0]}, monetary_value={m.shape[0]}"
            )
        check_frequency(x)
        bad = (x > 0) & (m <= 0)
        if bad.any():
            raise InvalidSummaryError(
                f"monetary_value must be > 0 where frequency > 0; {int(bad.sum())} rows are <= 0"
                f"{_which(bad, monetary_value)} (pass frequency 0 for them to get the population mean)"
            )
        if prm.q <= 1:
            raise InvalidSummaryError(f"the expected spend is infinite for q <= 1 (q={prm.q:.4g})")
        m_used = np.where(x > 0, m, 0.0)
        out = prm.p * (prm.gamma + m_used * x) / (prm.p * x + prm.q - 1.0)
        return like_input(out, frequency, "expected_average_profit")
