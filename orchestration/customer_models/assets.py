"""The CLV asset: fits BG/NBD + Gamma-Gamma on `marts.fct_orders` and writes per-customer predictions for dbt."""

import dagster as dg

from orchestration.as_of import run_as_of_date
from orchestration.config import Settings
from orchestration.customer_models.clv import fit_clv
from orchestration.warehouse import connect_warehouse

PREDICTIONS = dg.AssetKey(["customer_models", "clv_predictions"])


def definitions(settings: Settings) -> dg.Definitions:
    @dg.asset(
        key=PREDICTIONS,
        deps=[dg.AssetKey(["marts", "fct_orders"])],
        group_name="customer_models",
        kinds={"python", "duckdb"},
        description="Per-customer P(alive), expected purchases, expected order value and 12-month CLV from BG/NBD + "
        "Gamma-Gamma fitted on completed orders up to the as-of date (time unit: days). Read by dbt's mart_clv.",
    )
    def clv_predictions(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        as_of = run_as_of_date(context.run, settings)
        with connect_warehouse(settings) as con:
            transactions = con.sql(
                "select customer_key, order_date, net_revenue_reporting as amount from marts.fct_orders "
                "where not is_refunded and order_date <= ? order by customer_key, order_date, order_id",
                params=[as_of],
            ).df()
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

    return dg.Definitions(assets=[clv_predictions])
