"""Column-at-a-time parsing of a CSV export: Arrow reads the file and parses each column where a cell's text has the
one plain shape whose value is certain (`-12`, `32.61`, `yes`, `2026-07-05 23:28:54 -0400`, `2026-07-05`, ...).
A cell of any other shape (a comma in a number, ` Yes `, an ISO `T`, junk) is left to its kind's Python parser
(cells.py) with the rest of its row, so every value and every quarantine reason is the one the row-by-row reader
gives; tests/test_files_source.py holds the two readers to the same deliveries.

Why: the row-by-row reader parses every cell in Python (~1.5 us each); a day's export of a large shop has millions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from orchestration.extract.raw_contract import TIMESTAMP
from orchestration.extract.vendor_files.cells import UTC_FORMAT
from orchestration.extract.vendor_files.formats import Record, RowShapeError

Column = pa.ChunkedArray
#: A kind's column parser: (values where certain, else null; which cells are certain: null cells always are).
ColumnParser = Callable[[Column], tuple[Column, Column]]

#: The row reader's (row number, record) of some of a file's records, given their positions in its TextColumns.
RowRecords = Callable[[pa.Array], Iterable[tuple[int, Record | RowShapeError]]]


@dataclass(frozen=True)
class TextColumns:
    """A file's records as text columns holding exactly the row reader's text, so one column-wise parse serves CSV
    and GA4 JSONL (export_reader._read_columns). Records the columns cannot be certain of are left to `records`."""

    headers: list[str]  # the row reader's headers in its order: they decide the drift columns and their order
    table: pa.Table  # one string column per header, null where the record has no text
    numbers: Column  # each record's row number (CSV: spreadsheet row, JSONL: line)
    certain: Column  # records whose text is certainly the row reader's
    records: RowRecords  # the row reader's own records, for the others


def all_true(size: int) -> Column:
    return pa.chunked_array([pa.repeat(pa.scalar(True), size)])


#: Years 1000-9998: with an offset, a time in year 9999 can leave the calendar once in UTC (Python's reason for it).
_YEAR, _MONTH, _DAY = (
    "([1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])",
    "(0[1-9]|1[0-2])",
    "(0[1-9]|[12][0-9]|3[01])",
)
_DATE = f"{_YEAR}-{_MONTH}-{_DAY}"
_TIME = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
_OFFSET = "[+-]([01][0-9]|2[0-3])[0-5][0-9]"
_WALL = f"^{_DATE} {_TIME}"


def read_strings(path: Path, header: list[str]) -> pa.Table | None:
    """The file's records as string columns named by `header` (empty cells null), read by Arrow. None when Arrow's
    rows might not be the csv module's (see formats.read_csv): a row of another width or a blank line, a one-column
    file, a repeated header, text Arrow cannot decode; the caller then reads the file row by row."""
    if len(header) < 2 or len(set(header)) != len(header):
        return None
    irregular: list[object] = []

    def skip(row: object) -> str:
        irregular.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, use_threads=False),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=skip
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    return None if irregular else table


def csv_columns(path: Path, header: list[str]) -> TextColumns | None:
    """A regular CSV file (read_strings) as TextColumns: row i is spreadsheet row i + 2 and every cell's text is the
    csv module's, so a row's record is its cells."""
    table = read_strings(path, header)
    if table is None:
        return None
    numbers = pa.chunked_array([pa.array(range(2, table.num_rows + 2), pa.int64())])

    def records(rows: pa.Array) -> Iterable[tuple[int, Record | RowShapeError]]:
        return zip(numbers.take(rows).to_pylist(), table.take(rows).to_pylist(), strict=True)

    return TextColumns(header, table, numbers, all_true(table.num_rows), records)


def _certain(column: Column, shape: str) -> Column:
    """Null cells, and cells whose whole text matches `shape` (a regular expression)."""
    return pc.or_kleene(pc.is_null(column), pc.match_substring_regex(column, shape))


def _int(column: Column) -> tuple[Column, Column]:
    certain = _certain(column, "^-?[0-9]{1,18}$")  # within int64; a sign, spaces or `_` go to Python's int()
    return pc.cast(pc.if_else(certain, column, None), pa.int64()), certain


def _float(column: Column) -> tuple[Column, Column]:
    certain = _certain(column, "^-?[0-9]{1,15}(\\.[0-9]{1,15})?$")  # both parsers round such text the same way
    return pc.cast(pc.if_else(certain, column, None), pa.float64()), certain


def _yes_no(column: Column) -> tuple[Column, Column]:
    lower = pc.utf8_lower(column)
    yes, no = pc.is_in(lower, pa.array(["yes", "true", "1", "y"])), pc.is_in(lower, pa.array(["no", "false", "0", "n"]))
    certain = pc.or_kleene(pc.is_null(column), pc.or_(yes, no))
    return pc.if_else(yes, True, pc.if_else(no, False, None)), certain


def _wall_clock(column: Column) -> tuple[Column, Column]:
    """The first 19 characters as a UTC wall time in microseconds since the epoch, and whether it is a real
    calendar time (Arrow's strptime rolls 2026-02-30 over to March: the round trip catches it)."""
    wall = pc.utf8_slice_codeunits(column, 0, 19)
    parsed = pc.strptime(wall, format=UTC_FORMAT, unit="s", error_is_null=True)  # %S of a finer unit has a fraction
    real = pc.fill_null(pc.equal(pc.strftime(parsed, format=UTC_FORMAT), wall), False)
    return pc.multiply(pc.cast(parsed, pa.int64()), 1_000_000), real


def _timestamp(column: Column) -> tuple[Column, Column]:
    """`YYYY-MM-DD HH:MM:SS` (UTC) or with a `+HHMM` offset (converted to UTC), in years 1000-9998."""
    utc = pc.match_substring_regex(column, f"{_WALL}$")
    local = pc.match_substring_regex(column, f"{_WALL} {_OFFSET}$")
    micros, real = _wall_clock(column)
    sign = pc.if_else(pc.equal(pc.utf8_slice_codeunits(column, 20, 21), "-"), -1, 1)
    hours = pc.cast(pc.if_else(local, pc.utf8_slice_codeunits(column, 21, 23), "0"), pa.int64())
    minutes = pc.cast(pc.if_else(local, pc.utf8_slice_codeunits(column, 23, 25), "0"), pa.int64())
    offset = pc.multiply(pc.multiply(sign, pc.add(pc.multiply(hours, 60), minutes)), 60_000_000)
    shape = pc.or_kleene(utc, local)
    certain = pc.or_kleene(pc.is_null(column), pc.and_kleene(shape, real))
    values = pc.if_else(pc.and_kleene(shape, real), pc.subtract(micros, offset), None)
    return pc.cast(values, TIMESTAMP), certain


def _date(column: Column) -> tuple[Column, Column]:
    shape = pc.match_substring_regex(column, f"^{_DATE}$")
    parsed = pc.strptime(column, format="%Y-%m-%d", unit="s", error_is_null=True)
    real = pc.fill_null(pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), column), False)
    ok = pc.and_kleene(shape, real)
    return pc.cast(pc.if_else(ok, parsed, None), pa.date32()), pc.or_kleene(pc.is_null(column), ok)


def _shopify_status(column: Column) -> tuple[Column, Column]:
    certain = _certain(column, "^[A-Za-z_]+$")
    lower = pc.utf8_lower(pc.if_else(certain, column, None))
    return pc.if_else(pc.equal(lower, "paid"), "completed", lower), certain


#: Cell kinds parsed column-wise; any other kind (Google Ads' exact micros) goes to Python for every non-null cell.
COLUMN_PARSERS: dict[str, ColumnParser] = {
    "int": _int,
    "float": _float,
    "yes_no": _yes_no,
    "timestamp": _timestamp,
    "local_timestamp": _timestamp,
    "date": _date,
    "shopify_financial_status": _shopify_status,
}


def parse_column(kind: str, column: Column) -> tuple[Column, Column]:
    """(values, certain): a kind without a column parser is certain only where null."""
    if kind == "text":
        return column, all_true(len(column))
    parser = COLUMN_PARSERS.get(kind)
    if parser is None:
        return pa.chunked_array([pa.nulls(len(column))]), pc.is_null(column)
    return parser(column)


def is_local_time(column: Column) -> Column:
    """cells.is_local_time for cells of the shape `_timestamp` is certain of: a non-zero `+HHMM` offset."""
    return pc.fill_null(
        pc.and_(pc.match_substring_regex(column, f"{_OFFSET}$"), pc.invert(pc.ends_with(column, "0000"))), False
    )
