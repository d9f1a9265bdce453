"""The customer models as dbt Python models (dbt_project/models/customer_models/): dbt-duckdb runs each in the dbt
process of the run's one `dbt build`, as soon as `fct_orders` is built, and the marts that read them build in the
same invocation. One dbt start, parse and adapter per run instead of two around a Dagster asset: an XS run's dbt
steps 16% shorter (44.0 s -> 37.1 s, medians of 3 interleaved runs on a slow machine); the models' own import of
pandas and SciPy into the dbt process (~1.5 s) is what is left of the second start.

These functions are the models' whole body; a model file only names its inputs, because dbt finds `dbt.ref()` and
`dbt.config.get()` by reading the file. A run setting comes from the orchestrator's dbt call in this process
(`orchestration.transform.run_settings`), else from the dbt var of that name (the model's `meta.run_settings`, rendered
from `--vars` or dbt_project.yml when dbt parses), so `dbt build` by hand works too. Imports only what a fit needs: this
runs inside dbt."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import pandas as pd

from orchestration.customer_models.backtest import backtest_purchases
from orchestration.customer_models.clv import ClvFit, fit_clv
from orchestration.transform.run_settings import current_run_setting

#: The fit's parameters, the same on every row of clv_predictions (`purchase_model` says which model they belong
#: to: mbgnbd, or bgnbd after the fallback of purchase_model.py), so a run's estimates stay queryable beside the
#: predictions they produced.
FIT_COLUMNS = ("r", "alpha_days", "a", "b", "log_likelihood")
SPEND_COLUMNS = ("p", "q", "gamma", "log_likelihood")


def run_setting(meta: Mapping[str, Any], name: str) -> str:
    """The run's value of setting `name` (see the module docstring)."""
    value = current_run_setting(name)
    return value if value is not None else str(meta["run_settings"][name])


def completed_orders(fct_orders: Any, as_of: date) -> pd.DataFrame:
    """customer_key, order_date, amount of every completed (not refunded) order up to the as-of date, from the
    `fct_orders` relation dbt hands the model."""
    return (
        fct_orders.filter(f"not is_refunded and order_date <= date '{as_of.isoformat()}'")
        .order("customer_key, order_date, order_key")
        .project("customer_key, order_date, net_revenue_reporting as amount")
        .df()
    )


def fit_parameters(fit: ClvFit) -> dict[str, object]:
    """The fit's estimates under fixed column names (its diagnostics name them after the model that won)."""
    diagnostics, model = fit.diagnostics, fit.purchase_model
    return {
        "purchase_model": model,
        **{f"purchase_model_{name}": float(diagnostics[f"{model}_{name}"]) for name in FIT_COLUMNS},
        **{f"gamma_gamma_{name}": float(diagnostics[f"gamma_gamma_{name}"]) for name in SPEND_COLUMNS},
        "fit_converged": bool(diagnostics["converged"]),
    }


def clv_predictions(fct_orders: Any, meta: Mapping[str, Any]) -> pd.DataFrame:
    """MBG/NBD + Gamma-Gamma fitted on completed orders up to the as-of date; one row per customer with the fit's
    parameters (orchestration/customer_models/clv.py)."""
    as_of = date.fromisoformat(run_setting(meta, "as_of_date"))
    fit = fit_clv(
        completed_orders(fct_orders, as_of),
        as_of,
        horizon_months=12,
        monthly_discount_rate=float(run_setting(meta, "clv_monthly_discount_rate")),
        margin=float(run_setting(meta, "clv_margin")),
    )
    return fit.predictions.assign(**fit_parameters(fit))


def clv_backtest(fct_orders: Any, clv_predictions: Any, meta: Mapping[str, Any]) -> pd.DataFrame:
    """One row per method of the back-test (orchestration/customer_models/backtest.py) of the purchase model the
    `clv_predictions` relation was fitted with; no rows when there is too little history to back-test.

    Reading the predictions also orders the two models: dbt builds the back-test after them, never beside them. Each
    holds every completed order in pandas beside DuckDB's buffers (whose memory limit bounds only those), and at L,
    run together in a one-day increment, they set the run's peak (7.26 GB of process tree against ~5.9 GB for any
    other node). A lock held for either model's body kept them apart before, but dbt started the back-test first
    (alphabetical among ready nodes), so the predictions, which mart_customer_360 waits for, waited behind it with a
    dbt thread blocked."""
    as_of = date.fromisoformat(run_setting(meta, "as_of_date"))
    used = clv_predictions.project("purchase_model").limit(1).fetchall()  # empty: nothing to go by
    return backtest_purchases(
        completed_orders(fct_orders, as_of), as_of, purchase_model=used[0][0] if used else None
    ).scores
