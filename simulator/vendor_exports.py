"""Write contract tables as vendor-shaped exports: what a user would download from HubSpot, Shopify, GA4's
BigQuery export, Google Ads and Meta Ads Manager. `c360 generate --format files` uses it, so the files source is
tested on the same data as the embedded one.
"""

from __future__ import annotations

import csv
import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from orchestration.extract.ad_platforms import by_raw_table
from orchestration.extract.vendor_files.cells import KINDS, LOCAL_FORMAT
from orchestration.extract.vendor_files.mappings import FileSpec, file_spec
from simulator.landing_writer import write_manifest

#: Shops export order times in the customer's local time; the writer reproduces that dirt, the reader repairs it.
COUNTRY_TIMEZONE = {
    "US": "America/New_York",
    "GB": "Europe/London",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "NL": "Europe/Amsterdam",
}
Row = dict[str, Any]

#: Values of known vendor columns the warehouse does not load, derived from the row so the files look real (ad
#: platforms declare their own: AdPlatform.export.echoes).
ECHOES: dict[str, Callable[[Row], Any]] = {
    "Name": lambda r: f"#{r['order_id']}",
    "event_date": lambda r: datetime.fromtimestamp(r["event_timestamp"] / 1e6, UTC).strftime("%Y%m%d"),
    "collected_traffic_source.manual_source": lambda r: r["traffic_source"],
    "collected_traffic_source.manual_medium": lambda r: r["traffic_medium"],
    "collected_traffic_source.manual_campaign_name": lambda r: r["traffic_campaign"],
    "collected_traffic_source.gclid": lambda r: r["gclid"],
    "traffic_source.name": lambda r: r["traffic_campaign"],
    "traffic_source.medium": lambda r: r["traffic_medium"],
    "traffic_source.source": lambda r: r["traffic_source"],
}


def _customer_zones(tables: dict[str, pa.Table]) -> dict[str, str]:
    customers = tables.get("crm_customers")
    if customers is None:
        return {}
    ids, countries = customers["customer_id"].to_pylist(), customers["country_code"].to_pylist()
    return {c: COUNTRY_TIMEZONE.get(country or "", "UTC") for c, country in zip(ids, countries, strict=True)}


def _cell(kind: str, value: Any, zone: str) -> str | None:
    if value is None:
        return None
    if kind == "local_timestamp":
        return value.astimezone(ZoneInfo(zone)).strftime(LOCAL_FORMAT)
    return KINDS[kind].format(value)


def _vendor_rows(spec: FileSpec, table: pa.Table, zones: dict[str, str]) -> tuple[list[str], list[dict]]:
    rows = table.to_pylist()
    platform = by_raw_table(spec.table)
    currency = rows[0].get(platform.currency_column) if rows and platform else None
    echoes = {**ECHOES, **dict(platform.export.echoes)} if platform else ECHOES
    headers = [f.header.replace("{currency}", currency or "USD") for f in spec.fields]
    out = []
    for row in rows:
        zone = zones.get(row.get("customer_id") or "", "UTC")
        values = {}
        for field, header in zip(spec.fields, headers, strict=True):
            value = echoes[field.header](row) if field.column is None else row[field.column]
            values[header] = value if field.column is None else _cell(field.kind, value, zone)
        out.append(values)
    return headers, out


def _ga4_event(spec: FileSpec, flat: dict[str, Any]) -> dict[str, Any]:
    """Dotted paths back into the export's nested shape; event_params typed as the export types them."""
    kinds = {f.header: f.kind for f in spec.fields}
    event: dict[str, Any] = {}
    for path, value in flat.items():
        if path.startswith("event_params."):
            if value is not None:
                typed = "int_value" if kinds.get(path) == "int" else "string_value"
                event.setdefault("event_params", []).append({"key": path.split(".", 1)[1], "value": {typed: value}})
            continue
        node = event
        *parents, leaf = path.split(".")
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return event


def write_atomically(path: Path, lines: Iterable[str] | None = None, rows: Iterable[list[str]] | None = None) -> None:
    """Write a JSONL (`lines`) or CSV (`rows`) file under a temporary name, then rename: readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        if rows is not None:
            csv.writer(handle).writerows(rows)
        for line in lines or ():
            handle.write(line + "\n")
    os.replace(tmp, path)


def write_files(tables: dict[str, pa.Table], out_dir: Path, metadata: dict[str, object] | None = None) -> Path:
    """Write every table as its vendor file(s) under `out_dir/<folder>/`; returns `out_dir`. With `metadata` (the
    generator's parameters) also `_manifest.json`, which the reader ignores and the as-of date reads."""
    zones = _customer_zones(tables)
    for name, table in tables.items():
        spec = file_spec(name)
        headers, rows = _vendor_rows(spec, table, zones)
        folder = out_dir / spec.folder
        if spec.format == "csv":
            cells = [[r[h] if r[h] is not None else "" for h in headers] for r in rows]
            write_atomically(folder / f"{spec.stem}.{spec.ext}", rows=[headers, *cells])
            continue
        by_day: dict[str, list[str]] = defaultdict(list)
        for row in rows:
            by_day[row["event_date"]].append(json.dumps(_ga4_event(spec, row), separators=(",", ":")))
        for day, lines in sorted(by_day.items()):
            write_atomically(folder / f"{spec.stem}{day}.{spec.ext}", lines=lines)
    if metadata is not None:
        write_manifest({name: table.num_rows for name, table in tables.items()}, out_dir, metadata)
    return out_dir
