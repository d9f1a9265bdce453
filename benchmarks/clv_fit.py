"""Time our BG/NBD + Gamma-Gamma fit (`models/`) on the completed orders of a landing folder; not a test.

`make bench` runs it on the same landed data as the pipeline and writes, beside its timings, the inputs the
pandas + lifetimes baseline (`benchmarks/lifetimes_fit.py`, in the benchmark's own `.venv-bench`) reads, so both
fit the same orders and the same summary. Standalone:

    .venv/bin/python -m benchmarks.clv_fit --landing data/bench/M-seed7/landing --as-of 2026-10-31 --work /tmp/clv

Orders: the latest version of each order, status completed, up to the as-of date, in USD at the ECB's daily
rate as of the order day (what the CLV asset fits), per CRM customer id (the asset fits resolved customers; CRM
duplicates change the customer count by a few percent and the fit's cost not at all).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import duckdb
import pandas as pd

from benchmarks.fx_usd_rates import usd_rates_csv
from benchmarks.timing import Stopwatch, fit_timings, medians
from models import BetaGeoFitter, GammaGammaFitter, calibration_summary

TRANSACTIONS_SQL = """
with latest as (
    select * from read_parquet($orders)
    qualify row_number() over (partition by order_id order by updated_at desc) = 1
),
completed as (
    select customer_id, (ordered_at at time zone 'UTC')::date as order_date, upper(currency) as currency, order_total
    from latest
    where status = 'completed' and (ordered_at at time zone 'UTC')::date <= $as_of::date
),
fx as (select rate_date::date as rate_date, currency, rate_to_usd from read_csv($fx_rates, header = true))
select completed.customer_id, completed.order_date::timestamp as order_date,
       round(completed.order_total * fx.rate_to_usd, 2) as amount
from completed asof left join fx on completed.currency = fx.currency and completed.order_date >= fx.rate_date
order by completed.customer_id, completed.order_date
"""


def transactions(landing: Path, as_of: str) -> pd.DataFrame:
    """(customer_id, order_date, amount in USD) per completed order: the shape of the CLV asset's frame."""
    params = {"orders": str(landing / "crm_orders.parquet"), "as_of": as_of, "fx_rates": str(usd_rates_csv(landing))}
    return duckdb.execute(TRANSACTIONS_SQL, params).df()


def fit_once(frame: pd.DataFrame, as_of: str) -> dict:
    """One summary + BG/NBD + Gamma-Gamma pass; seconds per stage, the fitted parameters and the summary."""
    watch = Stopwatch()
    summary = calibration_summary(
        frame, "customer_id", "order_date", "amount", observation_end=pd.Timestamp(as_of), time_unit="D"
    )
    watch.lap("summary_s")
    bgnbd = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    watch.lap("bgnbd_fit_s")
    repeat = summary[summary["frequency"] > 0]
    gamma_gamma = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    watch.lap("gamma_gamma_fit_s")
    return {
        **fit_timings(watch),
        "customers": len(summary),
        "repeat_customers": len(repeat),
        "bgnbd_params": bgnbd.params_.as_dict(),
        "bgnbd_converged": bool(bgnbd.converged_),
        "gamma_gamma_params": gamma_gamma.params_.as_dict(),
        "summary": summary,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--landing", type=Path, required=True, help="a synthetic landing folder (Parquet)")
    parser.add_argument("--as-of", required=True, help="observation end, YYYY-MM-DD")
    parser.add_argument("--work", type=Path, required=True, help="writes transactions.parquet, summary.parquet")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    frame = transactions(args.landing, args.as_of)
    read_s = time.perf_counter() - started
    runs = [fit_once(frame, args.as_of) for _ in range(args.repeats)]
    args.work.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(args.work / "transactions.parquet", index=False)
    summary = runs[0]["summary"]
    summary.rename_axis("customer_id").reset_index().to_parquet(args.work / "summary.parquet", index=False)
    timings = medians([{key: value for key, value in run.items() if key != "summary"} for run in runs])
    result = {"orders": len(frame), "read_orders_s": read_s, "repeats": args.repeats, **timings}
    print(json.dumps(result, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
