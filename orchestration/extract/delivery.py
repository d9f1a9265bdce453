"""What every source reader hands the extract: a contract-typed Arrow table plus the rows it could not parse.

The table carries two lineage columns (`_source_file`, `_source_row`) so the shared quarantine rules can name the
file and row of a bad record; the extract drops them before loading. Rows a reader could not parse at all arrive as
`Reject`s, already explained, so nothing a source read is ever silently lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

SOURCE_FILE = "_source_file"
SOURCE_ROW = "_source_row"
LINEAGE = (SOURCE_FILE, SOURCE_ROW)


def one_line(text: object) -> str:
    """Text on one line, whitespace runs collapsed: a library's message (Arrow's, a decoder's) quoted in a failure may
    carry newlines, and a failure is reported as one line naming the file."""
    return " ".join(str(text).split())


class DeliveryError(RuntimeError):
    """A whole file or table cannot be used (unreadable, not the expected format, a required column missing). The
    message is kept to one line whatever library text it quotes."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


@dataclass(frozen=True)
class Reject:
    """One delivered record that cannot be loaded, and why."""

    file: str
    row_number: int  # 1-based: CSV spreadsheet row (header = 1), JSONL line, Parquet row
    column: str  # the failing contract (or vendor) column(s), comma-separated
    reason: str
    record_json: str  # the record as delivered (vendor fields) or as parsed (contract columns), JSON text


@dataclass
class Delivery:
    table: pa.Table  # contract columns (+ drift columns) + LINEAGE
    rejects: list[Reject] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)  # dirt a reader repaired and counts, e.g. local timestamps
    delivered: bool = True  # False: the source has no file for this table at all (an optional table not delivered)
    new_files_only: bool = False  # True: files an earlier kept load read unchanged were skipped (a delta)

    @property
    def rows_read(self) -> int:
        return self.table.num_rows + len(self.rejects)


def not_delivered(schema: pa.Schema) -> Delivery:
    """An optional table the source did not deliver: zero rows in the contract's shape, so raw still gets the table
    (dbt sources exist, dependent models come out empty) and the ledger records it as not delivered."""
    table = schema.empty_table()
    table = table.append_column(SOURCE_FILE, pa.array([], pa.string()))
    table = table.append_column(SOURCE_ROW, pa.array([], pa.int64()))
    return Delivery(table=table, delivered=False)


def with_lineage(table: pa.Table, file: str, first_row: int = 1) -> pa.Table:
    """Tag every row with its file and 1-based row number (Parquet-style numbering from `first_row`). A delivered
    column with a lineage column's name would be taken for it: the delivery fails, naming the file."""
    clash = [c for c in LINEAGE if c in table.column_names]
    if clash:
        raise DeliveryError(f"{file}: column(s) {', '.join(clash)} are reserved for lineage; rename or drop them")
    n = table.num_rows
    table = table.append_column(SOURCE_FILE, pa.repeat(pa.scalar(file, pa.string()), n).dictionary_encode())
    return table.append_column(SOURCE_ROW, pa.array(np.arange(first_row, first_row + n, dtype=np.int64)))
