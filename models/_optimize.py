"""Maximum-likelihood driver shared by the fitters.

Parameters are optimised on the log scale (so positivity is automatic) with
L-BFGS-B and an analytic gradient.  The objective is the *mean* weighted
negative log-likelihood, which keeps the tolerances independent of the number
of customers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from .errors import ConvergenceError

__all__ = ["LOG_BOUND", "MLEResult", "maximize_log_likelihood"]

# Every parameter is kept within [1e-8, 1e8]; an optimum on that boundary is a
# degenerate fit (e.g. no dropout at all) and is reported as non-convergence.
LOG_BOUND = 8.0 * np.log(10.0)
# L-BFGS-B sometimes stops with "ABNORMAL_TERMINATION_IN_LNSRCH" when the line
# search cannot improve on an optimum that is already reached to machine
# precision; such a stop is accepted when the projected gradient is this small.
_GRADIENT_ACCEPT = 1e-6

ObjectiveFn = Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64]]]


@dataclass(frozen=True)
class MLEResult:
    log_params: NDArray[np.float64]
    mean_log_likelihood: float
    message: str
    n_iter: int


def maximize_log_likelihood(
    neg_mean_ll_and_grad: ObjectiveFn,
    log_params0: NDArray[np.float64],
    names: tuple[str, ...],
    *,
    max_iter: int,
    tol: float,
) -> MLEResult:
    """Minimise the mean negative log-likelihood over log-parameters.

    Raises
    ------
    ConvergenceError
        if the optimiser fails, the optimum is not finite, or a parameter ends on
        the ``[1e-8, 1e8]`` boundary.  The optimiser's message is attached.
    """
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(log_params0)
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        res = minimize(
            neg_mean_ll_and_grad,
            np.asarray(log_params0, dtype=float),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": max_iter, "ftol": tol, "gtol": tol * 1e2, "maxcor": 20},
        )
    message = str(res.message)
    finite = bool(np.isfinite(res.fun) and np.all(np.isfinite(res.x)))
    grad = np.asarray(getattr(res, "jac", np.full(len(log_params0), np.nan)), dtype=float)
    accepted = res.success or (finite and bool(np.all(np.abs(grad) < _GRADIENT_ACCEPT)))
    if not (finite and accepted):
        raise ConvergenceError(
            f"maximum-likelihood fit did not converge after {res.nit} iterations: {message}", message
        )
    at_bound = [n for n, v in zip(names, res.x, strict=True) if abs(v) >= LOG_BOUND - 1e-6]
    if at_bound:
        raise ConvergenceError(
            f"parameter(s) {at_bound} hit the [1e-8, 1e8] boundary: the data do not identify the model "
            f"(optimiser: {message})",
            message,
        )
    return MLEResult(log_params=res.x, mean_log_likelihood=-float(res.fun), message=message, n_iter=int(res.nit))
