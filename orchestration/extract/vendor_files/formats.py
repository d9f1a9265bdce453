"""Record-level I/O of the two file formats: CSV with a header row, and GA4's BigQuery-export JSONL.

Both readers yield (row number, {vendor column: text or None}) so one mapping step serves every file. A file that
cannot be decoded or parsed at all raises DeliveryError naming the file and the problem.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from orchestration.extract.delivery import DeliveryError

Record = dict[str, str | None]
PARAM_VALUE_KEYS = ("string_value", "int_value", "float_value", "double_value")


class RowShapeError(ValueError):
    """One CSV row does not fit the header, or one GA4 event's params are malformed: quarantined, the rest of the
    file loads."""


def read_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, Record | RowShapeError]]]:
    """Header and rows; row numbers are spreadsheet rows (the header is row 1)."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
        reader = csv.reader(handle)
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DeliveryError(f"{path}: not a readable UTF-8 CSV file ({exc})") from exc
    if not header or not any(h.strip() for h in header):
        handle.close()
        raise DeliveryError(f"{path}: not a CSV export: no header row")
    header = [h.strip() for h in header]

    def rows() -> Iterator[tuple[int, Record | RowShapeError]]:
        with handle:
            number = 1
            try:
                for cells in reader:
                    number += 1
                    if not cells:
                        continue
                    if len(cells) != len(header):
                        yield number, RowShapeError(f"row has {len(cells)} fields, the header has {len(header)}")
                        continue
                    yield number, {h: (c if c != "" else None) for h, c in zip(header, cells, strict=True)}
            except (UnicodeDecodeError, csv.Error) as exc:
                raise DeliveryError(f"{path}: not a readable UTF-8 CSV file near row {number + 1} ({exc})") from exc

    return header, rows()


def flatten_ga4(event: dict[str, Any], prefix: str = "") -> Record:
    """A GA4 export event as dotted paths: event_params become `event_params.<key>` with their one typed value."""
    flat: Record = {}
    for key, value in event.items():
        path = f"{prefix}{key}"
        if key == "event_params" and isinstance(value, list):
            for param in value:
                if not (isinstance(param, dict) and isinstance(param.get("key"), str)):
                    raise RowShapeError(f"event_params entry is not a {{key, value}} object: {json.dumps(param)}")
                typed = param.get("value") or {}
                if not isinstance(typed, dict):
                    raise RowShapeError(f"event_params {param['key']!r} value is not an object: {json.dumps(typed)}")
                found = next((typed[k] for k in PARAM_VALUE_KEYS if typed.get(k) is not None), None)
                flat[f"{path}.{param['key']}"] = None if found is None else str(found)
        elif isinstance(value, dict):
            flat.update(flatten_ga4(value, f"{path}."))
        elif isinstance(value, list):
            flat[path] = json.dumps(value)
        else:
            flat[path] = None if value is None else str(value)
    return flat


def ga4_event(path: Path, number: int, line: str) -> Record | RowShapeError:
    """One non-blank line as its flattened event, or why its params are malformed (one bad row). A line that is not
    a JSON object fails the file: the export is broken. Shared by the row reader and the column reader's re-reads."""
    try:
        event = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DeliveryError(f"{path}: line {number} is not valid JSON ({exc.msg})") from exc
    if not isinstance(event, dict):
        raise DeliveryError(f"{path}: line {number} is not a GA4 event object")
    try:
        return flatten_ga4(event)
    except RowShapeError as exc:
        return exc


def read_ga4_jsonl(path: Path) -> Iterator[tuple[int, Record | RowShapeError]]:
    """One event per line; row numbers are line numbers; blank lines are skipped."""
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, ga4_event(path, number, line)
    except UnicodeDecodeError as exc:
        raise DeliveryError(f"{path}: not a UTF-8 JSONL file ({exc})") from exc
