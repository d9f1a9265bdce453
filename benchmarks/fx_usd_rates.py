"""Daily rates to USD for the benchmark's hand-written references (the SQL bound, our CLV fit), from the same ECB
reference rates the pipeline loads (`orchestration/extract/fx_rates.py`), crossed via EUR.

Written once per landing folder as CSV (rate_date, currency, rate_to_usd), next to it, so the references read rates
with `read_csv` as they would any file, and timing them never includes building the table.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.extract.fx_rates import ecb_rates


def usd_rates_csv(landing: Path) -> Path:
    """The CSV of daily rates to USD beside `landing` (built on first use)."""
    path = landing.resolve().parent / "fx_usd_rates.csv"
    if not path.exists():
        rates = ecb_rates()
        with duckdb.connect() as con:
            con.register("ecb", rates)
            con.execute(
                f"""
                copy (
                    select rate.rate_date, rate.currency, rate.rate_to_base / usd.rate_to_base as rate_to_usd
                    from ecb as rate
                    inner join ecb as usd on rate.rate_date = usd.rate_date and usd.currency = 'USD'
                    order by rate.rate_date, rate.currency
                ) to '{path}' (header)
                """
            )
    return path
