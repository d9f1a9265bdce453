"""The pandas + `lifetimes` CLV baseline: BG/NBD + Gamma-Gamma on the orders `benchmarks/clv_fit.py` wrote.

Runs only in the benchmark's own environment (`.venv-bench`, from `benchmarks/requirements.lock`): lifetimes 0.11.3
is unmaintained and never a runtime dependency. Reads `<work>/transactions.parquet` (customer_id, order_date,
amount) and `<work>/summary.parquet` (our calibration summary) and prints JSON: the median over `--repeats` runs of
lifetimes' own summary (`summary_data_from_transaction_data`) and of its fits on our summary, so the fit times
compare on identical inputs. Standalone, from the repository root:
`.venv-bench/bin/python -m benchmarks.lifetimes_fit --work DIR --as-of D`.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data

if __package__ in (None, ""):  # run as a script (`python benchmarks/lifetimes_fit.py`): make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.timing import Stopwatch, fit_timings, medians  # noqa: E402


def fit_once(transactions: pd.DataFrame, summary: pd.DataFrame, as_of: str) -> dict:
    """lifetimes' own summary of the orders, then its fits on our summary; seconds per stage and the parameters."""
    watch = Stopwatch()
    own_summary = summary_data_from_transaction_data(
        transactions, "customer_id", "order_date", "amount", observation_period_end=as_of, freq="D"
    )
    watch.lap("summary_s")
    bgnbd = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    watch.lap("bgnbd_fit_s")
    repeat = summary[summary["frequency"] > 0]
    gamma_gamma = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    watch.lap("gamma_gamma_fit_s")
    return {
        **fit_timings(watch),
        "customers": len(own_summary),
        "bgnbd_params": {key: float(value) for key, value in bgnbd.params_.items()},
        "gamma_gamma_params": {key: float(value) for key, value in gamma_gamma.params_.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    transactions = pd.read_parquet(args.work / "transactions.parquet")
    summary = pd.read_parquet(args.work / "summary.parquet").set_index("customer_id")
    with warnings.catch_warnings():  # lifetimes predates pandas 3 and numpy 2: deprecation noise only
        warnings.simplefilter("ignore")
        runs = [fit_once(transactions, summary, args.as_of) for _ in range(args.repeats)]
    print(json.dumps({"repeats": args.repeats, **medians(runs)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
