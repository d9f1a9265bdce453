"""Scoring a churn or purchase model against what happened: ROC AUC and calibration by decile.

Pure NumPy/pandas so the pipeline, the tests and the evaluation note compute the same numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ._validation import as_1d_float
from .errors import InvalidSummaryError

__all__ = ["calibration_by_decile", "roc_auc"]


def roc_auc(scores: ArrayLike, outcomes: ArrayLike) -> float:
    """Area under the ROC curve: the probability that a random positive scores above a random negative (ties
    count one half), by the Mann-Whitney rank sum. ``outcomes`` are 0/1 (or booleans)."""
    s = as_1d_float(scores, "scores")
    y = np.asarray(outcomes).astype(bool)
    if y.shape != s.shape:
        raise InvalidSummaryError(f"inputs have mismatched lengths: scores={s.shape[0]}, outcomes={y.shape[0]}")
    positives, negatives = int(y.sum()), int((~y).sum())
    if positives == 0 or negatives == 0:
        raise InvalidSummaryError("AUC needs both outcomes; got only one class")
    ranks = pd.Series(s).rank(method="average").to_numpy()  # ties share their mean rank (Mann-Whitney U)
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def calibration_by_decile(predicted: ArrayLike, observed: ArrayLike, *, bins: int = 10) -> pd.DataFrame:
    """Predicted probability against the observed rate in ``bins`` equal-count groups ordered by the prediction.

    Returns one row per group: ``decile`` (1 = lowest predictions), ``customers``, ``mean_predicted``,
    ``observed_rate``. Ties are split by position (a stable sort), so every group has ``n // bins`` or one more.
    """
    p = as_1d_float(predicted, "predicted")
    y = np.asarray(observed).astype(float)
    if y.shape != p.shape:
        raise InvalidSummaryError(f"inputs have mismatched lengths: predicted={p.shape[0]}, observed={y.shape[0]}")
    order = np.argsort(p, kind="stable")
    group = np.empty(p.shape[0], dtype=np.int64)
    group[order] = np.arange(p.shape[0]) * bins // p.shape[0]
    frame = pd.DataFrame({"decile": group + 1, "predicted": p, "observed": y})
    out = frame.groupby("decile").agg(
        customers=("predicted", "size"), mean_predicted=("predicted", "mean"), observed_rate=("observed", "mean")
    )
    return out.reset_index()
