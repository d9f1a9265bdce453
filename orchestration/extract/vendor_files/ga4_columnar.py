"""Column-at-a-time reading of a GA4 JSONL export: Arrow parses the events and they are flattened to the dotted-path
text columns formats.flatten_ga4 gives each event, with the same text (Python's str() of an int, float or bool,
json.dumps of a list), so export_reader._read_columns parses, quarantines and keeps drift exactly as for CSV.

Arrow's JSON is not Python's and a column forgets what a record knows, so nothing is guessed:
- the file is read row by row (None) when Arrow might read it otherwise than json.loads line by line: a BOM, a line
  that is not one `{...}` or ends in a lone CR, text Arrow refuses (bad UTF-8 or JSON, a key given twice, a type
  changing between events), a dotted key or nested `event_params` list (paths could collide), a value of a type
  with no certain text;
- the headers are the row reader's own: the events that can bring a new header are flattened in Python (an absent
  key and a null look alike in Arrow), which needs every non-param path in the first event (else row by row);
- an event whose text the columns may not have (a float that may be an integer in the file, a non-empty list, a
  param key given twice, malformed params) is read again from its line by the row reader's code.

Why: the row-by-row reader spends ~25 us per event in Python; a day's export of a large shop has millions.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from orchestration.extract.vendor_files.columnar import Column, TextColumns
from orchestration.extract.vendor_files.formats import PARAM_VALUE_KEYS, Record, RowShapeError, ga4_event

PARAMS = "event_params"
JSON_SPACE = " \t\r\n"
#: Events flattened in Python to learn the headers and their order; a file needing more is read row by row.
MAX_HEADER_EVENTS = 1000
#: (column as text, certain): where the text is certainly flatten_ga4's.
Text = tuple[Column, np.ndarray]


@dataclass
class _Flat:
    """The events flattened: text per dotted path, and per event what the row reader's reading depends on."""

    size: int
    columns: dict[str, Column] = field(default_factory=dict)
    leaves: list[str] = field(default_factory=list)  # non-param paths: each must be in the first event's record
    containers: set[str] = field(default_factory=set)  # struct paths and the params list: a null one is a header
    null_container: np.ndarray = field(init=False)  # events with a null (or absent) struct or params list
    uncertain: np.ndarray = field(init=False)  # events whose text is not certainly the row reader's
    malformed: np.ndarray = field(init=False)  # events whose params make flatten_ga4 fail
    first_with_param: dict[str, np.ndarray] = field(default_factory=dict)  # param key -> events holding it

    def __post_init__(self) -> None:
        self.null_container, self.uncertain, self.malformed = (np.zeros(self.size, bool) for _ in range(3))

    def text(self, header: str) -> Column:
        """A header's text; a container's own path only ever holds null (a struct in one event, null in another)."""
        if header in self.columns:
            return self.columns[header]
        return pa.chunked_array([pa.nulls(self.size, pa.string())])

    def knows(self, header: str) -> bool:
        return header in self.columns or header in self.containers


def ga4_columns(path: Path) -> TextColumns | None:
    """The file's events as flatten_ga4's text columns, or None when the row reader has to read it."""
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):  # Arrow skips it, json.loads refuses it
        return None
    split = _object_lines(data)
    events = _events(data) if split else None
    if split is None or events is None or events.num_rows != len(split[1]):
        return None
    lines, numbers = split
    flat = _flatten(events)
    if flat is None or flat.malformed.all():
        return None
    headers = _headers(path, lines, numbers, flat)
    if headers is None:
        return None

    def records(rows: pa.Array) -> Iterable[tuple[int, Record | RowShapeError]]:
        return _reread(path, lines, numbers.take(rows))

    certain = pa.chunked_array([pa.array(~(flat.uncertain | flat.malformed))])
    return TextColumns(headers, pa.table({h: flat.text(h) for h in headers}), numbers, certain, records)


@dataclass(frozen=True)
class _Lines:
    """Where each line of the file lies in its bytes (without its LF or CRLF): a line's text is decoded only when
    the row reader's code reads it again."""

    data: bytes
    starts: np.ndarray
    ends: np.ndarray

    def texts(self, numbers: Column) -> list[str]:
        return [self.data[self.starts[n - 1] : self.ends[n - 1]].decode() for n in numbers.to_pylist()]


def _object_lines(data: bytes) -> tuple[_Lines, Column] | None:
    """The file's lines as Python iterates a text file, and the numbers of those not blank, if each of these is one
    `{...}`: then Arrow's events are these lines in order (checked by their count). Cut where numpy finds the newline
    bytes, and judged by their first and last bytes: only the few lines not plainly `{...}` (blank, padded) are
    decoded here. None for a file that is not UTF-8 or has a lone CR (Python ends a line there too: such a file is
    read event by event)."""
    raw = np.frombuffer(data, np.uint8)
    if not len(raw) or not _is_utf8(data):  # Arrow's JSON reader takes any bytes in a string
        return None
    newlines = np.flatnonzero(raw == ord("\n"))
    starts, ends = np.concatenate([[0], newlines + 1]), np.append(newlines, len(raw))
    if raw[-1] == ord("\n"):  # no line after the last newline
        starts, ends = starts[:-1], ends[:-1]
    if b"\r" in data:
        if data.count(b"\r") != data.count(b"\r\n"):  # a lone CR
            return None
        ends = ends - ((ends > starts) & (raw[np.maximum(ends - 1, 0)] == ord("\r")))
    filled = ends > starts
    plain = filled & (raw[np.minimum(starts, len(raw) - 1)] == ord("{")) & (raw[np.maximum(ends - 1, 0)] == ord("}"))
    blank = np.zeros(len(starts), bool)
    for line in np.flatnonzero(~plain):  # nearly none; a newline byte never splits a UTF-8 character
        text = data[starts[line] : ends[line]].decode().strip(JSON_SPACE)
        if text and not (text.startswith("{") and text.endswith("}")):
            return None
        blank[line] = not text
    numbers = pa.chunked_array([pa.array(np.flatnonzero(~blank) + 1, pa.int64())])
    return _Lines(data, starts, ends), numbers


def _is_utf8(data: bytes) -> bool:
    """Arrow's UTF-8 check of the whole buffer, in place."""
    offsets = pa.py_buffer(np.array([0, len(data)], np.int64))
    try:
        pa.LargeStringArray.from_buffers(1, offsets, pa.py_buffer(data)).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _events(data: bytes) -> pa.Table | None:
    """The events as Arrow infers them, with the strings it took for times read again as the text they are."""
    try:
        table = pajson.read_json(pa.BufferReader(data))
        schema = pa.schema([f.with_type(_untimed(f.type)) for f in table.schema])
        if schema != table.schema:
            table = pajson.read_json(pa.BufferReader(data), parse_options=pajson.ParseOptions(explicit_schema=schema))
    except pa.ArrowInvalid:
        return None
    return table


def _untimed(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_temporal(kind):
        return pa.string()
    if pa.types.is_struct(kind):
        return pa.struct([f.with_type(_untimed(f.type)) for f in kind])
    if pa.types.is_list(kind):
        return pa.list_(kind.value_field.with_type(_untimed(kind.value_type)))
    return kind


def _flatten(events: pa.Table) -> _Flat | None:
    flat = _Flat(events.num_rows)
    for name, column in zip(events.column_names, events.columns, strict=True):
        if name == PARAMS and pa.types.is_list(column.type):
            ok = _add_params(flat, column)
        else:
            ok = _add_path(flat, name, name, column)
        if not ok:
            return None
    return flat


def _add_path(flat: _Flat, path: str, name: str, column: Column) -> bool:
    """A key's text at its dotted path, a struct's fields under it (null where the struct is); False when its text
    cannot be certain."""
    if "." in name or path in flat.columns or path in flat.containers:
        return False
    if pa.types.is_struct(column.type):
        flat.containers.add(path)
        flat.null_container |= _mask(pc.is_null(column))
        children = zip(column.type, column.flatten(), strict=True)
        return all(_add_path(flat, f"{path}.{f.name}", f.name, child) for f, child in children)
    if name == PARAMS and pa.types.is_list(column.type):
        return False  # flatten_ga4 reads a params list at any depth
    text = _text(column)
    if text is None:
        return False
    flat.columns[path] = text[0]
    flat.uncertain |= ~text[1]
    flat.leaves.append(path)
    return True


def _text(column: Column) -> Text | None:
    """A JSON scalar column as flatten_ga4's str() of each value (json.dumps of a list), and where that is certain."""
    kind, everywhere = column.type, np.ones(len(column), bool)
    if pa.types.is_string(kind):
        return column, everywhere
    if pa.types.is_null(kind):
        return pa.chunked_array([pa.nulls(len(column), pa.string())]), everywhere
    if pa.types.is_boolean(kind):
        return pc.if_else(column, "True", "False"), everywhere
    if pa.types.is_integer(kind):
        return pc.cast(column, pa.string()), everywhere
    if pa.types.is_floating(kind):
        return _float_text(column)
    if pa.types.is_list(kind):
        empty = pc.equal(pc.list_value_length(column), 0)  # json.dumps([]) == str([]) == "[]"; others: Python
        return pc.if_else(empty, "[]", pa.scalar(None, pa.string())), _mask(pc.fill_null(empty, True))
    return None


def _float_text(column: Column) -> Text:
    """Python's repr of each float; an integral one is uncertain: Arrow reads an int as a float in a column holding
    both, and str() of the int has no `.0`."""
    integral = _mask(pc.fill_null(pc.equal(pc.floor(column), column), False))
    text = pa.array([None if v is None else repr(v) for v in column.to_pylist()], pa.string())
    return pa.chunked_array([text]), ~integral


def _add_params(flat: _Flat, column: Column) -> bool:
    """`event_params.<key>` per param key with the first non-null typed value's text, as flatten_ga4 gives them."""
    entries = pc.list_flatten(column)
    if not pa.types.is_struct(entries.type):
        return False
    fields = dict(zip([f.name for f in entries.type], entries.flatten(), strict=True))
    key = fields.get("key")
    value = _param_text(fields.get("value"), len(entries))  # one chunk: a take per key from many is slow
    if key is None or not pa.types.is_string(key.type) or value is None:
        return False
    flat.containers.add(PARAMS)
    flat.null_container |= _mask(pc.is_null(column))
    rows = pc.list_parent_indices(column).to_numpy()
    names = pc.unique(key).drop_null()
    keys = pc.fill_null(pc.index_in(key, names), -1).to_numpy()
    flat.malformed[rows[keys < 0]] = True  # an entry that is not a {key, value} object, or has no string key
    flat.uncertain[rows[~value[1]]] = True
    flat.uncertain[_repeated(rows, keys)] = True  # flatten_ga4 keeps the last one's value at the first one's place
    for index, name in enumerate(names.to_pylist()):
        chosen = np.flatnonzero(keys == index)
        positions = np.full(flat.size, -1)
        positions[rows[chosen]] = chosen
        flat.columns[f"{PARAMS}.{name}"] = value[0].take(pa.array(positions, mask=positions < 0))
        flat.first_with_param[name] = rows[chosen]
    return True


def _param_text(value: Column | None, size: int) -> Text | None:
    """Each entry's first non-null typed value as text; none without a `value` (flatten_ga4's `or {}`)."""
    if value is None or pa.types.is_null(value.type):
        return pa.chunked_array([pa.nulls(size, pa.string())]), np.ones(size, bool)
    if not pa.types.is_struct(value.type):
        return None
    typed = dict(zip([f.name for f in value.type], value.flatten(), strict=True))
    texts = [_text(typed[k]) for k in PARAM_VALUE_KEYS if k in typed]
    if not texts:
        return _param_text(None, size)
    if any(t is None for t in texts):
        return None
    certain = [t for t in texts if t is not None]
    return pc.coalesce(*(t[0] for t in certain)).combine_chunks(), np.logical_and.reduce([t[1] for t in certain])


def _repeated(rows: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Events holding a param key twice."""
    if not len(keys):
        return rows
    width = int(keys.max()) + 2
    pairs, counts = np.unique(rows.astype(np.int64) * width + keys + 1, return_counts=True)
    return pairs[counts > 1] // width


def _mask(column: Column) -> np.ndarray:
    return np.asarray(column.to_numpy(), bool)


def _headers(path: Path, lines: _Lines, numbers: Column, flat: _Flat) -> list[str] | None:
    """The row reader's headers (flatten_ga4's keys of the well-formed events, in order) from the only events that
    can bring one first, flattened in Python: the first, the first with each param key, each with a null struct or
    params list (`"device": null` is a header of its own; absent, it is none). Only the first event can bring a
    non-param path: Arrow cannot tell where a null one is absent, so a file where another does is read row by row."""
    good = ~flat.malformed
    first = int(np.argmax(good))
    with_param = [rows[good[rows]][:1] for rows in flat.first_with_param.values()]
    candidates = np.unique(np.concatenate([[first], *with_param, np.flatnonzero(flat.null_container & good)]))
    if len(candidates) > MAX_HEADER_EVENTS:
        return None
    records = [r for _, r in _reread(path, lines, numbers.take(pa.array(candidates)))]
    events = [r for r in records if not isinstance(r, RowShapeError)]
    if len(events) != len(records) or not set(flat.leaves) <= set(events[0]):
        return None
    headers = list(dict.fromkeys(h for event in events for h in event))
    return headers if all(flat.knows(h) for h in headers) else None


def _reread(path: Path, lines: _Lines, numbers: Column) -> list[tuple[int, Record | RowShapeError]]:
    """Events read again from their lines by the row reader's own code."""
    texts = lines.texts(numbers)
    return [(n, ga4_event(path, n, t)) for n, t in zip(numbers.to_pylist(), texts, strict=True)]
