"""Run the single-pass DuckDB bound (`benchmarks/sql_bound.sql`) over a landing folder; print its time and counts.

    .venv/bin/python -m benchmarks.sql_bound --landing data/bench/M-seed7/landing --as-of 2026-10-31

One in-memory DuckDB connection with DuckDB's defaults (all cores); `seconds` covers the script only, not the
interpreter start or `import duckdb`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import duckdb

from benchmarks.fx_usd_rates import usd_rates_csv

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "sql_bound.sql"


def render(landing: Path, as_of: str) -> str:
    """The script with its placeholders filled in."""
    return (
        SCRIPT.read_text()
        .replace("__LANDING__", str(landing.resolve()))
        .replace("__FX_RATES__", str(usd_rates_csv(landing)))
        .replace("__AS_OF__", as_of)
    )


def run(landing: Path, as_of: str) -> dict:
    sql = render(landing, as_of)
    started, cpu_started = time.perf_counter(), time.process_time()
    with duckdb.connect() as con:
        statements = [statement for statement in sql.split(";") if statement.strip().strip("-\n ")]
        for statement in statements[:-1]:
            con.execute(statement)
        names = [column for column, *_ in con.execute(statements[-1]).description]
        counts = dict(zip(names, con.fetchone(), strict=True))
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "duckdb": duckdb.__version__, **counts}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--as-of", required=True)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.landing, args.as_of), default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
