"""raw.fx_rates grows by the ECB's new dates only and always holds the current override files, and a rerun changes
nothing: the daily run does not rewrite the ~229k ECB rates since 1999."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.extract.fx_rates import ECB, FX_TABLE, ecb_rates, reference_rates, write_raw_fx_rates


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
