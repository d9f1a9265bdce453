"""Read a raw table's vendor files into the contract's Arrow shape, driven by its FileSpec.

Cells that do not parse make their row a Reject (quarantined with file, row, column and reason); the rest loads. A
file that cannot be read at all, or lacks the vendor column of a required contract column, fails with a message
naming the file. Vendor columns the mapping does not know are kept as extra snake_case string columns (drift).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from orchestration.extract.delivery import LINEAGE, SOURCE_FILE, SOURCE_ROW, Delivery, DeliveryError, Reject
from orchestration.extract.raw_contract import RawTable, ga4_event_id
from orchestration.extract.vendor_files.cells import KINDS, is_local_time
from orchestration.extract.vendor_files.formats import Record, RowShapeError, read_csv, read_ga4_jsonl
from orchestration.extract.vendor_files.mappings import Field, FileSpec, file_spec, snake_case

LOCAL_TIME_NOTE = "timestamps_in_local_time"


def files_of(landing_dir: Path, spec: FileSpec) -> list[Path]:
    """The table's files in name order; `_`- and `.`-prefixed entries (ground truth, temp files) are not data."""
    folder = landing_dir / spec.folder
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"{spec.stem}*.{spec.ext}") if not p.name.startswith(("_", ".")))


def _records(path: Path, spec: FileSpec) -> tuple[list[str], Iterator[tuple[int, Record | RowShapeError]]]:
    if spec.format == "csv":
        return read_csv(path)
    records = list(read_ga4_jsonl(path))
    headers = list(dict.fromkeys(h for _, r in records for h in r))
    return headers, iter(records)


def _resolve(path: Path, headers: list[str], raw: RawTable, spec: FileSpec) -> tuple[dict[str, str], list[str]]:
    """Contract column -> vendor header present in this file, and the headers no field knows (drift)."""
    required = set(raw.required)
    found: dict[str, str] = {}
    for field in spec.fields:
        header = next((h for h in headers if field.matches(h)), None)
        if header is None and field.column in required:
            raise DeliveryError(
                f"{path}: required column {field.header!r} (raw.{raw.name}.{field.column}) is missing; "
                f"the file has {', '.join(repr(h) for h in headers)}"
            )
        if header is not None and field.column:
            found[field.column] = header
    known = {h for h in headers for f in spec.fields if f.matches(h)}
    return found, [h for h in headers if h not in known]


def _read_file(path: Path, raw: RawTable, spec: FileSpec, delivery: Delivery) -> pa.Table:
    headers, rows = _records(path, spec)
    found, drift = _resolve(path, headers, raw, spec)
    fields: list[Field] = [f for f in spec.loaded if f.column in found]
    local = [found[f.column] for f in fields if f.kind == "local_timestamp"]
    values: dict[str, list] = {f.column: [] for f in fields}
    extra: dict[str, list] = {h: [] for h in drift}
    numbers: list[int] = []
    for number, record in rows:
        if isinstance(record, RowShapeError):
            delivery.rejects.append(Reject(path.name, number, "*", str(record), json.dumps(None)))
            continue
        parsed, problems = {}, []
        for field in fields:
            text = record.get(found[field.column])
            try:
                parsed[field.column] = None if text is None else KINDS[field.kind].parse(text)
            except ValueError as exc:
                problems.append((field.column, str(exc)))
        if problems:
            columns, reasons = zip(*problems, strict=True)
            delivery.rejects.append(
                Reject(path.name, number, ", ".join(columns), "; ".join(reasons), json.dumps(record))
            )
            continue
        for column, value in parsed.items():
            values[column].append(value)
        for header in drift:
            extra[header].append(record.get(header))
        numbers.append(number)
        if any(is_local_time(record.get(h) or "") for h in local):
            delivery.notes[LOCAL_TIME_NOTE] = delivery.notes.get(LOCAL_TIME_NOTE, 0) + 1
    n = len(numbers)
    columns = {}
    for column in raw.columns:
        data = values.get(column.name, [None] * n)
        columns[column.name] = pa.array(data, column.type)
    for header in drift:
        columns[snake_case(header)] = pa.array(extra[header], pa.string())
    columns[SOURCE_FILE] = pa.array([path.name] * n, pa.string())
    columns[SOURCE_ROW] = pa.array(numbers, pa.int64())
    return pa.table(columns)


def _derive(table: pa.Table, raw: RawTable) -> pa.Table:
    if raw.name != "ga4_events":
        return table
    ids = ga4_event_id(table["user_pseudo_id"], table["event_timestamp"], table["event_name"])
    return table.set_column(table.schema.get_field_index("event_id"), "event_id", ids)


def read_files_delivery(landing_dir: Path, raw: RawTable) -> Delivery:
    """Every file of the table under `landing_dir` (the `files` landing folder), parsed to the contract."""
    spec = file_spec(raw.name)
    paths = files_of(landing_dir, spec)
    if not paths:
        raise DeliveryError(
            f"{landing_dir / spec.folder}: no {spec.stem}*.{spec.ext} file for raw table {raw.name!r} ({spec.vendor})"
        )
    delivery = Delivery(table=pa.table({}))
    parts = [_read_file(path, raw, spec, delivery) for path in paths]
    table = pa.concat_tables(parts, promote_options="default")
    lineage = [table[c] for c in LINEAGE]
    table = _derive(table.drop_columns(list(LINEAGE)), raw)
    delivery.table = pa.table({**{c: table[c] for c in table.column_names}, **dict(zip(LINEAGE, lineage, strict=True))})
    return delivery
