"""Time the BG/NBD + Gamma-Gamma fit at M scale (100k customers, 2 years) on the embedded generator's orders.

Not a test: wall time depends on the machine. Run with `make bench`; prints one line per stage and the total.
The data is generated in memory (no landing folder, no warehouse), so only the models' own cost is measured.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from models import BetaGeoFitter, GammaGammaFitter, calibration_summary
from simulator.retailer import FX_TO_USD, GeneratorConfig, generate

T = TypeVar("T")


def _timed(label: str, work: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    print(f"{label:<34} {seconds:8.2f} s")
    return result, seconds


def transactions(config: GeneratorConfig) -> pd.DataFrame:
    """Completed orders as (customer_id, order_date, amount in USD): the shape of the CLV asset's frame. The asset fits
    resolved customers (customer_key); per CRM record here, since duplicates change the customer count by a few
    percent and the fit's cost not at all."""
    orders = generate(config)["crm_orders"]
    completed = orders.filter(pc.equal(orders["status"], "completed")).to_pandas()
    rate = completed["currency"].str.upper().map(FX_TO_USD).to_numpy()  # some CRM rows carry "eur"
    return pd.DataFrame(
        {
            "customer_id": completed["customer_id"],
            "order_date": completed["ordered_at"].dt.tz_convert(None).dt.floor("D"),
            "amount": np.round(completed["order_total"].to_numpy() * rate, 2),
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="M", choices=["XS", "S", "M", "L"])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    config = GeneratorConfig(scale=args.scale, seed=args.seed)

    frame, _ = _timed(f"generate scale {args.scale} (not in fit)", lambda: transactions(config))
    summary, t_summary = _timed(
        "calibration summary",
        lambda: calibration_summary(
            frame, "customer_id", "order_date", "amount", observation_end=pd.Timestamp(config.end_date), time_unit="D"
        ),
    )
    bgnbd, t_bgnbd = _timed(
        "BG/NBD fit", lambda: BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    )
    repeat = summary[summary["frequency"] > 0]
    gamma_gamma, t_gg = _timed(
        "Gamma-Gamma fit", lambda: GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    )
    print(
        f"customers {len(summary):,} (repeat {len(repeat):,}), orders {len(frame):,}; "
        f"BG/NBD {bgnbd.params_}, converged {bgnbd.converged_}; Gamma-Gamma {gamma_gamma.params_}, "
        f"converged {gamma_gamma.converged_}"
    )
    print(f"summary + fit total: {t_summary + t_bgnbd + t_gg:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
