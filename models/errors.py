"""Named exceptions raised by the :mod:`models` package.

Every failure of the package surfaces as one of these classes, so callers (for
example an orchestration layer) can catch exactly the problem they expect.
All subclass :class:`ValueError`.
"""

from __future__ import annotations

__all__ = ["CLVError", "ConvergenceError", "InvalidSummaryError", "NotFittedError"]


class CLVError(ValueError):
    """Base class of every error raised by :mod:`models`."""


class InvalidSummaryError(CLVError):
    """The per-customer summary (or transactions) given to a model is not valid.

    The message names the problem and how many rows are affected.
    """


class ConvergenceError(CLVError):
    """Maximum-likelihood estimation did not converge.

    Attributes
    ----------
    optimizer_message:
        The message returned by :func:`scipy.optimize.minimize`.
    """

    def __init__(self, message: str, optimizer_message: str = "") -> None:
        super().__init__(message)
        self.optimizer_message = optimizer_message


class NotFittedError(CLVError, AttributeError):
    """A prediction was requested from a model that has not been fitted."""
