"""Which purchase model the customer models fit: MBG/NBD, or BG/NBD where MBG/NBD has no interior optimum.

MBG/NBD (a customer may drop out right after any purchase, the first included) is what gives one-time buyers a churn
risk. On some histories its likelihood keeps rising as the dropout probability's Beta(a, b) collapses onto a single
value (a and b run off to infinity with a/(a+b) fixed: every customer drops out with the same probability), so the
optimiser reports non-convergence or stops far out with predictions that overflow; a CRM-only delivery in the tests
does this (a/(a+b) = 0.027 with a+b > 10^6).
BG/NBD then still has an interior optimum, so the fit falls back to it rather than fail the run, and says so: the
model's name is in `clv_predictions.purchase_model` (and its diagnostics' keys, `mbgnbd_r` or `bgnbd_r`) and in the
back-test's `method`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from models import BetaGeoFitter, ConvergenceError, ModifiedBetaGeoFitter


def fit_purchase_model(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, *, horizon: float, fallen_back: bool = False
) -> tuple[str, BetaGeoFitter]:
    """("mbgnbd", fitted MBG/NBD), or ("bgnbd", fitted BG/NBD) when MBG/NBD does not converge or its predictions
    over `horizon` (model time units) are not finite for every customer (a fit run off towards that limit).
    `fallen_back`: BG/NBD straight away (the back-test of predictions that fell back evaluates the model they use)."""
    if not fallen_back:
        try:
            model = ModifiedBetaGeoFitter().fit(frequency, recency, T)
            if np.all(np.isfinite(model.expected_purchases(horizon, frequency, recency, T))):
                return "mbgnbd", model
        except ConvergenceError:
            pass
    return "bgnbd", BetaGeoFitter().fit(frequency, recency, T)
