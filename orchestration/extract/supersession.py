"""Which rows of a delivery lose to a later row of the same key: found by DuckDB over the whole delivery.

A key delivered twice in one delivery keeps its later row (file order, then row order); the earlier row is
quarantined, not folded away by the merge. The later row wins even when it is itself quarantined: an older version
is never loaded as if it were the current one. DuckDB answers over the delivered Parquet file directly (the key
columns only, spilling past its memory limit), so a file read in bounded batches still knows, batch by batch, which
of its rows lose to a row of a later batch; a delivery read whole is asked the same question of its Arrow table.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from orchestration.extract.delivery import LINEAGE, SOURCE_FILE, SOURCE_ROW, Superseded, one_line
from orchestration.extract.landing import LandingError, parquet_columns
from orchestration.warehouse import connect_scratch


def _losers(relation: duckdb.DuckDBPyRelation, keys: list[str]) -> Superseded:
    """`relation` has the key columns, `_i` (delivery order) and the lineage columns."""
    quoted = ", ".join(f'"{k}"' for k in keys)
    present = " and ".join(f'"{k}" is not null' for k in keys)
    rows = relation.query(
        "delivery",
        f"""
        with keyed as (select * from delivery where {present}),
        repeated as (select {quoted}, max(_i) as last_i from keyed group by all having count(*) > 1)
        select loser.{SOURCE_FILE}, loser.{SOURCE_ROW}, winner.{SOURCE_FILE}, winner.{SOURCE_ROW}
        from keyed as loser
        join repeated using ({quoted})
        join keyed as winner on winner._i = repeated.last_i
        where loser._i < repeated.last_i
        """,
    ).fetchall()
    return Superseded({(str(f), int(r)): (str(wf), int(wr)) for f, r, wf, wr in rows})


def superseded_in_table(table: pa.Table, keys: list[str]) -> Superseded:
    """The superseded rows of a delivery held whole (table order is delivery order)."""
    if not table.num_rows or any(k not in table.column_names for k in keys):
        return Superseded({})
    order = pa.array(np.arange(table.num_rows, dtype=np.int64))
    rows = table.select([*keys, *LINEAGE]).append_column("_i", order)
    with connect_scratch() as con:
        return _losers(con.from_arrow(rows), keys)


def superseded_in_parquet(path: Path, file: str, keys: list[str], config: dict[str, str] | None = None) -> Superseded:
    """The superseded rows of one delivered Parquet file (`file`: its name as lineage records it), reading only its
    key columns, with DuckDB settings `config` (the warehouse's memory limit and spill directory). A file without
    every key column has none: conform then fails it, naming the missing column."""
    if any(k not in parquet_columns(path) for k in keys):
        return Superseded({})
    quoted = ", ".join(f'"{k}"' for k in keys)
    with connect_scratch(config) as con:
        try:
            relation = con.sql(
                f"select {quoted}, file_row_number as _i, ?::varchar as {SOURCE_FILE}, "
                f"file_row_number + 1 as {SOURCE_ROW} from read_parquet(?, file_row_number = true)",
                params=[file, str(path)],
            )
            return _losers(relation, keys)
        except duckdb.Error as exc:
            raise LandingError(f"{path}: cannot be read as Parquet ({one_line(exc)})") from exc
