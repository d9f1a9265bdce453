"""Checks that a maximum-likelihood fit really sits at a maximum, which a `converged` flag cannot show.

The fitters raise when the optimiser fails, so `converged_` is always true on a returned fit; what a bad fit (an
early stop, a wrong gradient, a parameter stuck) gets wrong is the optimum itself. These helpers look at the
log-likelihood around the fitted parameters: its gradient in log-parameters is about zero, and moving any one
parameter either way lowers it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

import numpy as np

#: Relative move of one parameter: small enough to stay in the optimum's quadratic basin, large enough that the
#: log-likelihood change is far above float noise.
STEP = 1e-3


def assert_local_maximum(log_likelihood: Callable[[Any], float], params: Any, *, gradient_tol: float = 1e-4) -> None:
    """`log_likelihood(params)` is the summed log-likelihood; `params` a frozen dataclass of positive parameters.

    Central differences in log-parameters give the gradient, scaled per customer by `|LL|` so the tolerance does
    not depend on the sample size; each parameter moved by +-STEP must not raise the log-likelihood.
    """
    at_optimum = log_likelihood(params)
    assert np.isfinite(at_optimum), at_optimum
    gradient = {}
    for name, value in asdict(params).items():
        up = log_likelihood(replace(params, **{name: value * np.exp(STEP)}))
        down = log_likelihood(replace(params, **{name: value * np.exp(-STEP)}))
        assert up <= at_optimum and down <= at_optimum, f"moving {name} raises the log-likelihood: not a maximum"
        gradient[name] = (up - down) / (2 * STEP) / abs(at_optimum)
    assert max(abs(g) for g in gradient.values()) < gradient_tol, f"relative gradient {gradient} is not ~0"
