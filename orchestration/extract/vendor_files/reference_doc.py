"""The README's file reference, rendered from the mappings so docs and reader cannot drift (a test compares them).

`python -m orchestration.extract.vendor_files.reference_doc` prints it.
"""

from __future__ import annotations

from orchestration.extract.raw_contract import RAW_TABLES
from orchestration.extract.vendor_files.mappings import DERIVED, FILE_SPECS

#: How each cell kind (cells.KINDS) is written, for people preparing their own exports.
KIND_DOC = {
    "text": "text",
    "int": "integer",
    "float": "number",
    "micros_from_units": "amount in currency units, stored as micros",
    "yes_no": "yes / no",
    "timestamp": "`YYYY-MM-DD HH:MM:SS` in UTC, or with a `+HHMM` offset",
    "local_timestamp": "`YYYY-MM-DD HH:MM:SS +HHMM` local time, stored as UTC",
    "date": "`YYYY-MM-DD`",
    "shopify_financial_status": "`paid` (-> completed) / `refunded`",
}
START, END = "<!-- files-reference:start -->", "<!-- files-reference:end -->"


def reference_markdown() -> str:
    tables = {t.name: t for t in RAW_TABLES}
    parts = [START]
    for spec in FILE_SPECS:
        raw = tables[spec.table]
        name = f"{spec.stem}YYYYMMDD.{spec.ext}" if spec.format == "ga4_jsonl" else f"{spec.stem}*.{spec.ext}"
        parts += [
            "",
            f"**`{spec.folder}/{name}`** ({spec.vendor}) -> `raw.{spec.table}`, key {', '.join(raw.primary_key)}",
            "",
            "| vendor column | warehouse column | type | required |",
            "|---|---|---|---|",
        ]
        for field in spec.fields:
            if field.column is None:
                parts.append(f"| `{field.header}` | (not loaded) | | |")
                continue
            column = next(c for c in raw.columns if c.name == field.column)
            required = "yes" if column.required else ""
            parts.append(f"| `{field.header}` | `{column.name}` | {KIND_DOC[field.kind]} | {required} |")
        for column in DERIVED.get(spec.table, ()):
            parts.append(
                f"| (derived: hash of user_pseudo_id, event_timestamp, event_name) | `{column}` | text | yes |"
            )
    parts.append(END)
    return "\n".join(parts)


if __name__ == "__main__":
    print(reference_markdown())
