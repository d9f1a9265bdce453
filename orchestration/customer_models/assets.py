"""The customer-model assets: MBG/NBD + Gamma-Gamma predictions per customer, and the back-test of the purchase
model against a naive baseline (blocking), both fitted on `marts.fct_orders` and read by dbt."""

from datetime import date

import dagster as dg
import duckdb
import pandas as pd

from orchestration.as_of import run_as_of_date
from orchestration.config import Settings
from orchestration.customer_models import checks
from orchestration.customer_models.backtest import backtest_purchases
from orchestration.customer_models.clv import fit_clv
from orchestration.warehouse import connect_warehouse

PREDICTIONS = dg.AssetKey(["customer_models", "clv_predictions"])
BACKTEST = dg.AssetKey(["customer_models", "clv_backtest"])
FCT_ORDERS = dg.AssetKey(["marts", "fct_orders"])


def completed_orders(con: duckdb.DuckDBPyConnection, as_of: date) -> pd.DataFrame:
    """customer_key, order_date, amount of every completed (not refunded) order up to the as-of date."""
    return con.sql(
        "select customer_key, order_date, net_revenue_reporting as amount from marts.fct_orders "
        "where not is_refunded and order_date <= ? order by customer_key, order_date, order_key",
        params=[as_of],
    ).df()


def definitions(settings: Settings) -> dg.Definitions:
    @dg.asset(
        key=PREDICTIONS,
        deps=[FCT_ORDERS],
        group_name="customer_models",
        kinds={"python", "duckdb"},
        description="Per-customer P(alive), expected purchases, expected order value and 12-month CLV from MBG/NBD + "
        "Gamma-Gamma fitted on completed orders up to the as-of date (time unit: days). Read by dbt's mart_clv.",
    )
    def clv_predictions(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        as_of = run_as_of_date(context.run, settings)
        with connect_warehouse(settings) as con:
            transactions = completed_orders(con, as_of)
            fit = fit_clv(
                transactions,
                as_of,
                horizon_months=12,
                monthly_discount_rate=settings.clv_monthly_discount_rate,
                margin=settings.clv_margin,
            )
            predictions = fit.predictions  # noqa: F841 - read by DuckDB's replacement scan below
            con.execute("create schema if not exists customer_models")
            con.execute("create or replace table customer_models.clv_predictions as select * from predictions")
        context.log.info(f"CLV fitted on {fit.diagnostics['customers']} customers as of {as_of}")
        excluded = fit.diagnostics["spend_model_excluded_customers"]
        if excluded:
            context.log.warning(
                f"{excluded} repeat customers left out of the spend model (average repeat spend <= 0); their "
                "expected order value is the population mean"
            )
        return dg.MaterializeResult(
            metadata={
                **{k: dg.MetadataValue.float(float(v)) for k, v in fit.diagnostics.items()},
                "as_of_date": str(as_of),
            }
        )

    @dg.asset(
        key=BACKTEST,
        deps=[FCT_ORDERS],
        group_name="customer_models",
        kinds={"python", "duckdb"},
        check_specs=[checks.check_spec(BACKTEST)],
        description="Back-test of the purchase model: MBG/NBD fitted on orders up to the as-of date minus 26 weeks "
        "(or half the history), its prediction of each customer's holdout purchases against what they did and "
        "against the calibration rate carried forward. One row per method. Read by dbt's mart_clv_backtest.",
    )
    def clv_backtest(context: dg.AssetExecutionContext):
        as_of = run_as_of_date(context.run, settings)
        with connect_warehouse(settings) as con:
            backtest = backtest_purchases(completed_orders(con, as_of), as_of)
            scores = backtest.scores  # noqa: F841 - read by DuckDB's replacement scan below
            con.execute("create schema if not exists customer_models")
            con.execute("create or replace table customer_models.clv_backtest as select * from scores")
        result = checks.verdict(backtest, BACKTEST)
        context.log.info(f"CLV back-test as of {as_of}: {result.description}")
        yield dg.MaterializeResult(metadata={"as_of_date": str(as_of), "methods": len(backtest.scores)})
        yield result

    return dg.Definitions(assets=[clv_predictions, clv_backtest])
