"""Write `seeds/fx_rates.csv`: one deterministic, plausible daily rate to USD per currency, 2024-01-01..2027-12-31.

Why a generated seed: the warehouse must convert money by the rate of each fact's date, offline, and reruns must
give the same marts. Each currency follows a mean-reverting log random walk around its anchor rate (the generator's
static price rates), seeded, so the file is byte-identical on every run. Replace the CSV with real reference rates
(same columns) in production; nothing else changes.

Run: `.venv/bin/python dbt_project/scripts/generate_fx_rates.py`
"""

import csv
from datetime import date, timedelta
from pathlib import Path

import numpy as np

ANCHORS = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "CHF": 1.13}
FIRST, LAST = date(2024, 1, 1), date(2027, 12, 31)
DAILY_VOLATILITY = 0.003  # ~5% a year, like major currency pairs
MEAN_REVERSION = 0.02  # per day: keeps each series within a few percent of its anchor
SEED = 20240101
OUT = Path(__file__).resolve().parent.parent / "seeds" / "fx_rates.csv"


def daily_rates(anchor: float, days: int, rng: np.random.Generator) -> np.ndarray:
    if anchor == 1.0:
        return np.ones(days)  # USD is the base of every rate
    log_dev = np.zeros(days)
    shocks = rng.normal(0.0, DAILY_VOLATILITY, days)
    for day in range(1, days):
        log_dev[day] = (1 - MEAN_REVERSION) * log_dev[day - 1] + shocks[day]
    return anchor * np.exp(log_dev)


def main() -> None:
    days = (LAST - FIRST).days + 1
    rng = np.random.default_rng(SEED)
    with OUT.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["rate_date", "currency", "rate_to_usd"])
        for currency, anchor in ANCHORS.items():
            for offset, rate in enumerate(daily_rates(anchor, days, rng)):
                writer.writerow([(FIRST + timedelta(days=offset)).isoformat(), currency, f"{rate:.8f}"])


if __name__ == "__main__":
    main()
