"""What every source reader hands the extract: a contract-typed Arrow table plus the rows it could not parse.

The table carries two lineage columns (`_source_file`, `_source_row`) so the shared quarantine rules can name the
file and row of a bad record; the extract drops them before loading. Rows a reader could not parse at all arrive as
`Reject`s, already explained, so nothing a source read is ever silently lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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


@dataclass(frozen=True)
class Superseded:
    """The rows of a delivery whose key the delivery holds again later (the later row wins), found over the whole
    delivery before its batches are read, by lineage: the losing (file, row) -> the winning (file, row). A delivery
    read in batches carries this index; a delivery read whole finds it in its own table."""

    winners: dict[tuple[str, int], tuple[str, int]]

    def mask(self, table: pa.Table) -> np.ndarray:
        """Which rows of a batch (by its lineage columns) are superseded."""
        flags = np.zeros(table.num_rows, dtype=bool)
        if not self.winners or not table.num_rows:
            return flags
        rows = table[SOURCE_ROW].to_numpy()
        files = table[SOURCE_FILE].cast(pa.string())  # a dictionary column (one Parquet file) compares as text
        for file in {f for f, _ in self.winners}:
            lost = np.fromiter((r for f, r in self.winners if f == file), dtype=np.int64)
            in_file = pc.equal(files, pa.scalar(file, pa.string())).to_numpy(zero_copy_only=False)
            flags |= in_file & np.isin(rows, lost)
        return flags


@dataclass
class Delivery:
    """One batch of a table's delivery: all of it (file readers), or a bounded slice of a large file (Parquet)."""

    table: pa.Table  # contract columns (+ drift columns) + LINEAGE
    rejects: list[Reject] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)  # dirt a reader repaired and counts, e.g. local timestamps
    delivered: bool = True  # False: the source has no file for this table at all (an optional table not delivered)
    new_files_only: bool = False  # True: files an earlier kept load read unchanged were skipped (a delta)
    superseded: Superseded | None = None  # the whole delivery's superseded rows; None: this batch is the delivery

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
