"""Customer-lifetime-value models in pure NumPy/SciPy.

* :func:`calibration_summary`, :func:`compress_summary` -- per-customer RFM summaries.
* :class:`BetaGeoFitter` -- BG/NBD purchase model (Fader, Hardie & Lee 2005).
* :class:`ModifiedBetaGeoFitter` -- MBG/NBD (Batislam et al. 2007): BG/NBD with dropout at the first purchase too.
* :class:`GammaGammaFitter` -- spend model (Fader & Hardie 2013).
* :func:`roc_auc`, :func:`calibration_by_decile` -- scoring churn predictions against outcomes.
* :func:`customer_lifetime_value` -- discounted CLV combining the two.
* :mod:`models.simulate` -- draw synthetic summaries from the models.

Time units are never rescaled implicitly: every time quantity is in the unit of
the summary (``time_unit`` of :func:`calibration_summary`).
"""

from .bgnbd import BetaGeoFitter, BetaGeoParams, bgnbd_log_likelihood
from .clv import customer_lifetime_value
from .errors import CLVError, ConvergenceError, InvalidSummaryError, NotFittedError
from .evaluation import calibration_by_decile, roc_auc
from .gamma_gamma import GammaGammaFitter, GammaGammaParams, gamma_gamma_log_likelihood
from .mbgnbd import ModifiedBetaGeoFitter, mbgnbd_log_likelihood
from .simulate import simulate_bgnbd_summary, simulate_gamma_gamma_spend
from .summary import CompressedSummary, calibration_summary, compress_summary, time_unit_in_days

__all__ = [
    "BetaGeoFitter",
    "BetaGeoParams",
    "CLVError",
    "CompressedSummary",
    "ConvergenceError",
    "GammaGammaFitter",
    "GammaGammaParams",
    "InvalidSummaryError",
    "ModifiedBetaGeoFitter",
    "NotFittedError",
    "bgnbd_log_likelihood",
    "calibration_by_decile",
    "calibration_summary",
    "compress_summary",
    "customer_lifetime_value",
    "gamma_gamma_log_likelihood",
    "mbgnbd_log_likelihood",
    "roc_auc",
    "simulate_bgnbd_summary",
    "simulate_gamma_gamma_spend",
    "time_unit_in_days",
]
