"""Read a raw table's vendor files into the contract's Arrow shape, driven by its FileSpec.

Cells that do not parse make their row a Reject (quarantined with file, row, column and reason); the rest loads. A
file that cannot be read at all, or lacks the vendor column of a required contract column, fails with a message
naming the file. Vendor columns the mapping does not know are kept as extra snake_case string columns (drift).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from orchestration.extract.delivery import (
    LINEAGE,
    SOURCE_FILE,
    SOURCE_ROW,
    Delivery,
    DeliveryError,
    Reject,
    not_delivered,
)
from orchestration.extract.raw_contract import RawTable, ga4_event_id, raw_table
from orchestration.extract.vendor_files.cells import KINDS, is_local_time
from orchestration.extract.vendor_files.columnar import TextColumns, csv_columns, parse_column
from orchestration.extract.vendor_files.columnar import is_local_time as is_local_time_column
from orchestration.extract.vendor_files.formats import Record, RowShapeError, read_csv, read_ga4_jsonl
from orchestration.extract.vendor_files.ga4_columnar import ga4_columns
from orchestration.extract.vendor_files.mappings import FILE_SPECS, Field, FileSpec, file_spec, snake_case

LOCAL_TIME_NOTE = "timestamps_in_local_time"
#: Events of a GA4 JSONL file whose keys the up-front column check looks at (a day's file can hold millions).
HEADER_SAMPLE_EVENTS = 100


def files_of(landing_dir: Path, spec: FileSpec) -> list[Path]:
    """The table's files in name order; `_`- and `.`-prefixed entries (ground truth, temp files) are not data."""
    folder = landing_dir / spec.folder
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"{spec.stem}*.{spec.ext}") if not p.name.startswith(("_", ".")))


def _records(path: Path, spec: FileSpec) -> tuple[list[str] | None, Iterator[tuple[int, Record | RowShapeError]]]:
    """Headers (None: a JSONL file without events, whose columns are unknown, not missing) and the records."""
    if spec.format == "csv":
        return read_csv(path)
    records = list(read_ga4_jsonl(path))
    events = [r for _, r in records if not isinstance(r, RowShapeError)]
    headers = list(dict.fromkeys(h for r in events for h in r))
    return (headers if events else None), iter(records)


def _missing_columns(path: Path, headers: list[str], raw: RawTable, spec: FileSpec) -> list[str]:
    """One line per required vendor column the file lacks, with the closest header it has as the likely fix."""
    required = set(raw.required)
    unknown = [h for h in headers if not any(f.matches(h) for f in spec.fields)]
    problems = []
    for field in spec.fields:
        if field.column not in required or any(field.matches(h) for h in headers):
            continue
        guess = _closest(field.header, unknown)
        shown = ", ".join(repr(h) for h in headers[:12]) + (", ..." if len(headers) > 12 else "")
        hint = f"did you mean {guess!r}?" if guess else f"the file has {shown}"
        problems.append(f"{_shown(path)}: column {field.header!r} missing (raw.{raw.name}.{field.column}); {hint}")
    return problems


def _shown(path: Path) -> str:
    """A delivered file as the docs name it: `<folder>/<file>` under the landing folder."""
    return f"{path.parent.name}/{path.name}"


def _closest(header: str, candidates: list[str]) -> str | None:
    """The delivered header most like the expected one (case and punctuation aside), if any is close."""
    simple = {snake_case(c): c for c in candidates}
    match = difflib.get_close_matches(snake_case(header), list(simple), n=1, cutoff=0.6)
    return simple[match[0]] if match else None


def _resolve(path: Path, headers: list[str] | None, raw: RawTable, spec: FileSpec) -> tuple[dict[str, str], list[str]]:
    """Contract column -> vendor header present in this file, and the headers no field knows (drift)."""
    if headers is None:
        return {f.column: f.header for f in spec.loaded}, []
    problems = _missing_columns(path, headers, raw, spec)
    if problems:
        raise DeliveryError("; ".join(problems))
    found: dict[str, str] = {}
    for field in spec.fields:
        header = next((h for h in headers if field.matches(h)), None)
        if header is not None and field.column:
            found[field.column] = header
    known = {h for h in headers for f in spec.fields if f.matches(h)}
    return found, [h for h in headers if h not in known]


def _parse_record(record: Record, fields: list[Field], found: dict[str, str]) -> tuple[dict, list[tuple[str, str]]]:
    """One delivered record through its cells' parsers: the contract values, and (column, reason) of each cell that
    does not parse (the row is then quarantined with all of them)."""
    parsed, problems = {}, []
    for field in fields:
        text = record.get(found[field.column])
        try:
            parsed[field.column] = None if text is None else KINDS[field.kind].parse(text)
        except ValueError as exc:
            problems.append((field.column, str(exc)))
    return parsed, problems


def _reject(path: Path, number: int, record: Record, problems: list[tuple[str, str]]) -> Reject:
    columns, reasons = zip(*problems, strict=True)
    return Reject(path.name, number, ", ".join(columns), "; ".join(reasons), json.dumps(record))


def _assemble(
    path: Path, raw: RawTable, values: dict[str, list], extra: dict[str, list], numbers: list[int]
) -> pa.Table:
    """Parsed values (contract column -> list), drift columns and row numbers as the contract's Arrow table."""
    n = len(numbers)
    columns = {c.name: pa.array(values.get(c.name, [None] * n), c.type) for c in raw.columns}
    columns.update({snake_case(h): pa.array(v, pa.string()) for h, v in extra.items()})
    columns[SOURCE_FILE] = pa.array([path.name] * n, pa.string())
    columns[SOURCE_ROW] = pa.array(numbers, pa.int64())
    return pa.table(columns)


def _read_file(path: Path, raw: RawTable, spec: FileSpec, delivery: Delivery, columnar: bool) -> pa.Table:
    strings = _text_columns(path, spec) if columnar else None
    if strings is None:
        headers, rows = _records(path, spec)
        found, drift = _resolve(path, headers, raw, spec)
        return _parse_rows(path, raw, rows, _fields(spec, found), found, drift, delivery)
    found, drift = _resolve(path, strings.headers, raw, spec)
    return _read_columns(path, raw, strings, _fields(spec, found), found, drift, delivery)


def _fields(spec: FileSpec, found: dict[str, str]) -> list[Field]:
    """The loaded fields this file has a column for."""
    return [f for f in spec.loaded if f.column in found]


def _text_columns(path: Path, spec: FileSpec) -> TextColumns | None:
    """The file as the row reader's text, column-wise, where Arrow reads it certainly the same (else None)."""
    if spec.format != "csv":
        return ga4_columns(path)
    headers = _headers(path, spec)
    return csv_columns(path, headers) if headers else None


def _parse_rows(
    path: Path,
    raw: RawTable,
    rows: Iterable[tuple[int, Record | RowShapeError]],
    fields: list[Field],
    found: dict[str, str],
    drift: list[str],
    delivery: Delivery,
) -> pa.Table:
    """Records cell by cell: rows that do not fit or hold a cell that does not parse become rejects."""
    local = [found[f.column] for f in fields if f.kind == "local_timestamp"]
    values: dict[str, list] = {f.column: [] for f in fields}
    extra: dict[str, list] = {h: [] for h in drift}
    numbers: list[int] = []
    for number, record in rows:
        if isinstance(record, RowShapeError):
            delivery.rejects.append(Reject(path.name, number, "*", str(record), json.dumps(None)))
            continue
        parsed, problems = _parse_record(record, fields, found)
        if problems:
            delivery.rejects.append(_reject(path, number, record, problems))
            continue
        for column, value in parsed.items():
            values[column].append(value)
        for header in drift:
            extra[header].append(record.get(header))
        numbers.append(number)
        if any(is_local_time(record.get(h) or "") for h in local):
            delivery.notes[LOCAL_TIME_NOTE] = delivery.notes.get(LOCAL_TIME_NOTE, 0) + 1
    return _assemble(path, raw, values, extra, numbers)


def _close_unread(rows: Iterator[tuple[int, Record | RowShapeError]]) -> None:
    """Close a CSV's row reader without reading on: it opens the file in its first step, so start it first."""
    next(rows, None)
    rows.close()  # type: ignore[attr-defined]


def _any(masks: Iterable[pa.ChunkedArray], size: int) -> pa.ChunkedArray:
    result = pa.chunked_array([pa.repeat(pa.scalar(False), size)])
    for mask in masks:
        result = pc.or_(result, mask)
    return result


def _read_columns(
    path: Path,
    raw: RawTable,
    strings: TextColumns,
    fields: list[Field],
    found: dict[str, str],
    drift: list[str],
    delivery: Delivery,
) -> pa.Table:
    """A file's text columns parsed column-wise; a record the text or a column parser is not certain of goes through
    `_parse_rows` as the row reader's own record, as in the row-by-row reader, and keeps its place."""
    table, numbers, size = strings.table, strings.numbers, strings.table.num_rows
    parsed = {f.column: parse_column(f.kind, table[found[f.column]]) for f in fields}
    uncertain = _any([pc.invert(strings.certain), *(pc.invert(certain) for _, certain in parsed.values())], size)
    sure = pc.invert(uncertain)
    n = pc.sum(pc.cast(sure, pa.int64())).as_py() or 0
    columns = {
        c.name: pc.cast(parsed[c.name][0].filter(sure), c.type) if c.name in parsed else pa.nulls(n, c.type)
        for c in raw.columns
    }
    columns.update({snake_case(h): table[h].filter(sure) for h in drift})
    columns[SOURCE_FILE] = pa.repeat(pa.scalar(path.name, pa.string()), n)
    columns[SOURCE_ROW] = numbers.filter(sure)
    local = [found[f.column] for f in fields if f.kind == "local_timestamp"]
    local_time = pc.and_(_any((is_local_time_column(table[h]) for h in local), size), sure)
    repaired = pc.sum(pc.cast(local_time, pa.int64())).as_py()
    if repaired:
        delivery.notes[LOCAL_TIME_NOTE] = delivery.notes.get(LOCAL_TIME_NOTE, 0) + repaired
    fast = pa.table(columns)
    if n == size:
        return fast
    rows = strings.records(pc.indices_nonzero(uncertain))
    slow = _parse_rows(path, raw, rows, fields, found, drift, delivery)
    merged = pa.concat_tables([fast, slow.cast(fast.schema)])
    return merged.take(pc.sort_indices(merged[SOURCE_ROW]))


def _derive(table: pa.Table, raw: RawTable) -> pa.Table:
    if raw.name != "ga4_events":
        return table
    ids = ga4_event_id(table["user_pseudo_id"], table["event_timestamp"], table["event_name"])
    return table.set_column(table.schema.get_field_index("event_id"), "event_id", ids)


def pattern(spec: FileSpec) -> str:
    """The files a table is read from, relative to the landing folder, as the docs name them."""
    return f"{spec.folder}/{spec.stem}*.{spec.ext}"


def missing_file(landing_dir: Path, spec: FileSpec) -> str:
    return (
        f"{landing_dir / pattern(spec)}: no file for required raw table {spec.table} ({spec.vendor}); deliver it, or "
        f"drop {spec.table} from C360_REQUIRED_TABLES if this deployment has no such data"
    )


def _headers(path: Path, spec: FileSpec) -> list[str] | None:
    """The file's headers, reading only what is needed: a CSV's header row, a JSONL file's first events."""
    if spec.format == "csv":
        headers, rows = read_csv(path)
        _close_unread(rows)
        return headers
    found: dict[str, None] = {}
    for i, (_, record) in enumerate(read_ga4_jsonl(path)):
        if not isinstance(record, RowShapeError):
            found.update(dict.fromkeys(record))
        if i >= HEADER_SAMPLE_EVENTS:
            break
    return list(found) if found else None


def delivery_problems(
    landing_dir: Path, required: tuple[str, ...], already_read: Mapping[str, frozenset[str]] | None = None
) -> list[str]:
    """Every problem that stops the delivery from loading, found in one pass before anything loads: each required
    table without a file, each file that cannot be read, each required vendor column missing from each file. Files
    in `already_read` (per table, paths relative to the folder: versions a kept load read) are not opened again: a
    load read them, and a daily run must not re-read years of delivered files."""
    problems: list[str] = []
    for spec in FILE_SPECS:
        paths = files_of(landing_dir, spec)
        if not paths and spec.table in required:
            problems.append(missing_file(landing_dir, spec))
        read = (already_read or {}).get(spec.table, frozenset())
        for path in paths:
            if str(path.relative_to(landing_dir)) in read:
                continue
            try:
                headers = _headers(path, spec)
            except DeliveryError as exc:
                problems.append(str(exc))
                continue
            if headers is not None:
                problems.extend(_missing_columns(path, headers, raw_table(spec.table), spec))
    return problems


def read_files_delivery(
    landing_dir: Path,
    raw: RawTable,
    required: tuple[str, ...] = (),
    columnar: bool = True,
    skip: frozenset[str] = frozenset(),
) -> Delivery:
    """Every file of the table under `landing_dir` (the `files` landing folder), parsed to the contract, but those
    in `skip` (paths relative to the folder: versions a kept load already read): the delivery is then only the new
    files (`new_files_only`, possibly none). A table without any file is not delivered (zero rows), unless it is
    `required`. Files are read column-wise where Arrow reads them certainly as the row reader does (columnar.py: CSV,
    ga4_columnar.py: GA4 JSONL); `columnar=False` reads every cell in Python: the reference it is tested against."""
    spec = file_spec(raw.name)
    paths = files_of(landing_dir, spec)
    if not paths:
        if raw.name in required:
            raise DeliveryError(missing_file(landing_dir, spec))
        return not_delivered(raw.schema)
    new = [p for p in paths if str(p.relative_to(landing_dir)) not in skip]
    if not new:
        return Delivery(table=not_delivered(raw.schema).table, new_files_only=True)
    delivery = Delivery(table=pa.table({}), new_files_only=len(new) < len(paths))
    paths = new
    parts = [_read_file(path, raw, spec, delivery, columnar) for path in paths]
    table = pa.concat_tables(parts, promote_options="default")
    lineage = [table[c] for c in LINEAGE]
    table = _derive(table.drop_columns(list(LINEAGE)), raw)
    delivery.table = pa.table({**{c: table[c] for c in table.column_names}, **dict(zip(LINEAGE, lineage, strict=True))})
    return delivery
