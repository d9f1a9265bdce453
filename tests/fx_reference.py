"""An independent reference for `int_fx_rates_daily`: DuckDB's ASOF join over every rate in raw.fx_rates (all of
the ECB's history and the overrides), for every currency and every day of int_date_bounds.

Why: the model reads only the rates that can reach the data's days; this lookup reads all of them, so any rate the
model's date window wrongly left out (or a day it wrongly covered) shows up as a difference.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

REFERENCE = """
with usd_per_euro as (
    select rate_date, rate_to_base from raw.fx_rates where rate_source = 'ecb' and currency = $reporting
),
published as (
    select
        r.currency,
        r.rate_date,
        case when r.rate_source = 'ecb' then r.rate_to_base / u.rate_to_base else r.rate_to_base end as rate,
        row_number() over (partition by r.currency, r.rate_date order by r.rate_source = 'ecb') as preference
    from raw.fx_rates as r left join usd_per_euro as u on r.rate_source = 'ecb' and r.rate_date = u.rate_date
    where upper(r.currency) <> $reporting and (r.rate_source <> 'ecb' or u.rate_to_base is not null)
),
best as (select currency, rate_date, rate from published where preference = 1),
days as (
    select cast(unnest(range(first_date, last_date + 1, interval 1 day)) as date) as day
    from intermediate.int_date_bounds
),
grid as (select * from days cross join (select distinct currency from best))
select grid.currency, grid.day, best.rate_date, cast(best.rate as decimal(28, 16)) as rate
from grid asof inner join best on grid.currency = best.currency and grid.day >= best.rate_date
where grid.day - best.rate_date <= $max_age
"""
MODEL = """
select currency, rate_date, published_rate_date, rate_to_reporting from intermediate.int_fx_rates_daily
"""


def fx_daily_differences(warehouse: Path, max_age_days: int = 45, reporting: str = "USD") -> tuple[int, int, int]:
    """(rows of int_fx_rates_daily, rows only in the model, rows only in the reference), as multisets."""
    with duckdb.connect(str(warehouse)) as con:
        params = {"reporting": reporting, "max_age": max_age_days}
        con.execute(f"create temp table reference as {REFERENCE}", params)
        only_model = con.execute(f"select count(*) from ({MODEL} except all select * from reference)").fetchone()[0]
        only_reference = con.execute(f"select count(*) from (select * from reference except all {MODEL})").fetchone()
        rows = con.execute("select count(*) from intermediate.int_fx_rates_daily").fetchone()[0]
        return rows, only_model, only_reference[0]
