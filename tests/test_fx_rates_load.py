"""raw.fx_rates grows by the ECB's new dates only and always holds the current override files, and a rerun changes
nothing: the daily run does not rewrite the ~229k ECB rates since 1999. int_fx_rates_daily reads only the rates
that can reach the data's days and still equals a lookup over all of them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.extract.fx_rates import ECB, FX_TABLE, ecb_rates, reference_rates, write_raw_fx_rates
from orchestration.extract.raw_contract import raw_table
from tests.dbt_harness import merge_load, run_dbt
from tests.fx_reference import fx_daily_differences


def _rows(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"select * from {FX_TABLE} order by all").fetchall()


def _override(data_dir: Path, rows: str) -> None:
    (data_dir / "landing").mkdir(exist_ok=True)
    (data_dir / "landing" / "fx_rates_extra.csv").write_text("date,currency,rate_to_usd\n" + rows)


def test_only_new_ecb_dates_are_appended_and_overrides_follow_their_files(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    ecb = ecb_rates()
    newest = pc.max(ecb["rate_date"])
    newest_rows = pc.sum(pc.cast(pc.equal(ecb["rate_date"], newest), pa.int64())).as_py()
    older = ecb.filter(pc.less(ecb["rate_date"], newest))  # yesterday's package

    first = write_raw_fx_rates(warehouse, older)
    assert (first.rows, first.ecb_rows_appended) == (older.num_rows, older.num_rows)
    _override(tmp_path, "1998-06-01,EUR,1.10\n2015-03-02,XAU,1500.5\n")
    daily = write_raw_fx_rates(warehouse, reference_rates(tmp_path, "USD"))
    assert (daily.rows, daily.ecb_rows_appended) == (ecb.num_rows + 2, newest_rows)
    assert len(_rows(warehouse)) == ecb.num_rows + 2

    before = _rows(warehouse)
    rerun = write_raw_fx_rates(warehouse, reference_rates(tmp_path, "USD"))
    assert (rerun.rows, rerun.ecb_rows_appended) == (ecb.num_rows + 2, 0) and _rows(warehouse) == before

    _override(tmp_path, "2015-03-02,XAU,1600.0\n")  # the file changed: its old rows go, the new one counts
    write_raw_fx_rates(warehouse, reference_rates(tmp_path, "USD"))
    overrides = [r for r in _rows(warehouse) if r[4] != ECB]
    assert [(str(r[0]), r[1], r[2], r[3]) for r in overrides] == [("2015-03-02", "XAU", "USD", 1600.0)]
    (tmp_path / "landing" / "fx_rates_extra.csv").unlink()
    assert write_raw_fx_rates(warehouse, reference_rates(tmp_path, "USD")).rows == ecb.num_rows


def _orders(days: list[date]) -> dict[str, pa.Table]:
    at = [datetime(d.year, d.month, d.day, 12, tzinfo=UTC) for d in days]
    rows = {
        "crm_customers": [
            {"customer_id": "K1", "email": "k1@shop.example.org", "signed_up_at": at[0], "updated_at": at[0]}
        ],
        "crm_orders": [
            {"order_id": f"O{n}", "customer_id": "K1", "ordered_at": t, "currency": "EUR", "order_total": 10.0,
             "status": "completed", "updated_at": t}
            for n, t in enumerate(at)
        ],
    }  # fmt: skip
    tables = {}
    for name, records in rows.items():
        spec = raw_table(name)
        tables[name] = pa.table({c.name: [r.get(c.name) for r in records] for c in spec.columns}, schema=spec.schema)
    return tables


def test_daily_rates_span_the_data_and_equal_an_as_of_lookup_over_all_history(tmp_path: Path) -> None:
    """Data from Monday 2015-01-05 (calendar from Sunday the 4th) to 2015-02-10: the first days carry Friday
    2015-01-02's rate, published before the data starts, and nothing before the calendar is built."""
    warehouse = tmp_path / "warehouse.duckdb"
    merge_load(warehouse, _orders([date(2015, 1, 5), date(2015, 2, 10)]), "load-1", datetime(2015, 2, 11, tzinfo=UTC))
    run_dbt(tmp_path, "run", "--select", "+int_fx_rates_daily", run_settings={"as_of_date": "2015-02-10"})
    rows, only_model, only_reference = fx_daily_differences(warehouse)
    assert (only_model, only_reference) == (0, 0)
    with duckdb.connect(str(warehouse)) as con:
        first = con.execute(
            "select rate_date, published_rate_date from intermediate.int_fx_rates_daily "
            "where currency = 'EUR' order by rate_date limit 1"
        ).fetchone()
        currencies = con.execute("select count(distinct currency) from intermediate.int_fx_rates_daily").fetchone()[0]
    assert first == (date(2015, 1, 4), date(2015, 1, 2))
    days = (date(2015, 2, 11) - date(2015, 1, 4)).days + 1  # int_date_bounds: a day either side of the data
    assert currencies > 20 and rows == currencies * days  # every currency, every day of the data, no more
