"""Write each run's consented audiences as upload files, one folder per run, private to the warehouse's owner.

Who is in an audience is decided in dbt (`mart_audience_members`: consent, profiling consent, the audience rules);
this module only joins the members to their contacts in the build warehouse (`int_customer_contacts`, never
published) and writes every upload shape of formats.py:

    published/activation/<run_id>/<audience>/<destination>.csv   (folders 0700, files 0600)
    published/activation/<run_id>/manifest.json                   (rows per file, members per audience x channel)

The files are written into a temporary folder and renamed into place, so a folder under `activation/` is always a
complete export. Retention keeps as many run folders as published versions (retention.py).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from orchestration.activation.formats import SHAPES, Contact, Reachable, reachable
from orchestration.data_dir import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE
from orchestration.warehouse import connect_file

MANIFEST = "manifest.json"
_MEMBERS_SQL = """
select members.audience, members.audience_channel, contacts.customer_key, contacts.email, contacts.phone,
    contacts.country_code
from marts.mart_audience_members as members
inner join intermediate.int_customer_contacts as contacts on members.customer_key = contacts.customer_key
order by members.audience, members.audience_channel, contacts.customer_key
"""


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    rows: dict[str, dict[str, int]]  # audience -> destination -> rows written
    members: dict[str, dict[str, int]]  # audience -> audience channel -> members in mart_audience_members
    unreachable: dict[str, dict[str, int]]  # audience -> destination -> members without a usable identifier


def export_audiences(warehouse_path: Path, activation_dir: Path, run_id: str) -> ExportResult:
    """Write every audience in every upload shape for this run; returns what was written, per file."""
    with connect_file(warehouse_path, read_only=True) as con:
        records = con.execute(_MEMBERS_SQL).fetchall()
        sizes = con.execute("select audience, audience_channel, members from marts.mart_audience_sizes").fetchall()
    by_audience: dict[tuple[str, str], list[Reachable]] = defaultdict(list)
    normalised: dict[tuple[str, str | None, str | None, str | None], Reachable] = {}  # a customer is in many audiences
    for audience, channel, *record in records:
        contact = normalised.get(tuple(record))
        if contact is None:
            contact = normalised[tuple(record)] = reachable(Contact(*record))
        by_audience[(audience, channel)].append(contact)
    members: dict[str, dict[str, int]] = defaultdict(dict)
    for audience, channel, count in sizes:
        if len(by_audience.get((audience, channel), [])) != count:  # both built in this run: never expected
            raise RuntimeError(
                f"{audience}/{channel}: mart_audience_sizes says {count}, the members join gives "
                f"{len(by_audience.get((audience, channel), []))}"
            )
        members[audience][channel] = count
    audiences = sorted(members)

    activation_dir.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    os.chmod(activation_dir, PRIVATE_DIR_MODE)
    folder = activation_dir / run_id
    partial = activation_dir / f".{run_id}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(mode=PRIVATE_DIR_MODE)
    rows: dict[str, dict[str, int]] = defaultdict(dict)
    unreachable: dict[str, dict[str, int]] = defaultdict(dict)
    try:
        for audience in audiences:
            (partial / audience).mkdir(mode=PRIVATE_DIR_MODE)
            for shape in SHAPES:
                contacts = by_audience.get((audience, shape.audience_channel), [])
                lines = [cells for cells in map(shape.reachable_cells, contacts) if cells is not None]
                _write_csv(partial / audience / f"{shape.destination}.csv", shape.header, lines)
                rows[audience][shape.destination] = len(lines)
                unreachable[audience][shape.destination] = len(contacts) - len(lines)
        manifest = {"run_id": run_id, "rows": rows, "members": members, "unreachable": unreachable}
        _write_private(partial / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        shutil.rmtree(folder, ignore_errors=True)  # a rerun of the same run replaces its export
        os.replace(partial, folder)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return ExportResult(folder=folder, rows=dict(rows), members=dict(members), unreachable=dict(unreachable))


def _write_csv(path: Path, header: tuple[str, ...], lines: list[tuple[str, ...]]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(lines)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def subject_cells(warehouse_path: Path, customer_keys: set[str]) -> set[str]:
    """Every cell value the upload files can hold for these customers (their hashes in each destination's shape,
    their address, their key), read from their contacts before an erasure deletes them from the warehouse."""
    if not customer_keys:
        return set()
    with connect_file(warehouse_path, read_only=True) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'intermediate' and table_name = 'int_customer_contacts'"
        ).fetchone()[0]
        records = (
            con.execute(
                "select customer_key, email, phone, country_code from intermediate.int_customer_contacts "
                "where list_contains(?, customer_key)",
                [sorted(customer_keys)],
            ).fetchall()
            if exists
            else []
        )
    cells = set(customer_keys)
    for record in records:
        contact = Contact(*record)
        for shape in SHAPES:
            cells |= set(shape.cells(contact) or ())
    return cells - {""}


def scrub_exports(activation_dir: Path, cells: set[str]) -> dict[str, int]:
    """Remove every row holding one of `cells` from every kept export (all runs), rewriting each file under a new
    name and renaming it into place with the owner-only mode; the manifests' row counts follow. Returns rows
    removed per file (`<run>/<audience>/<file>`), only files that lost rows."""
    removed: dict[str, int] = {}
    for manifest_path in sorted(activation_dir.glob(f"*/{MANIFEST}")):
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        for path in sorted(manifest_path.parent.glob("*/*.csv")):
            with path.open(newline="", encoding="utf-8") as handle:
                header, *lines = list(csv.reader(handle))
            kept = [line for line in lines if not cells.intersection(line)]
            if len(kept) == len(lines):
                continue
            fresh = path.with_name(f".{path.name}.scrubbed")
            fresh.unlink(missing_ok=True)
            _write_csv(fresh, tuple(header), [tuple(line) for line in kept])
            os.replace(fresh, path)
            removed[str(path.relative_to(activation_dir))] = len(lines) - len(kept)
            manifest["rows"][path.parent.name][path.stem] = len(kept)
        fresh_manifest = manifest_path.with_name(f".{MANIFEST}.scrubbed")
        fresh_manifest.unlink(missing_ok=True)
        _write_private(fresh_manifest, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        os.replace(fresh_manifest, manifest_path)
    return removed
