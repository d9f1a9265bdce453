"""Erase people from every copy the warehouse keeps: `c360 erase` and the source-deletion step call `erase`.

One path for both: resolve the whole person (orchestration/privacy/subject.py), record them in the erasure ledger
as keyed hashes (so a re-delivery is suppressed at admission), then delete every row holding one of their values
from the build warehouse (raw, audit and quarantine, identity graph, incremental facts, SCD2 snapshot, marts), every
published file (live, kept versions, rolled-back copies), dlt's kept load packages and the PostgreSQL serving
schema, each rewritten so the bytes are gone (orchestration/privacy/scrub.py). Aggregates (counts, sums by segment
or month) are corrected by the next run, which rebuilds every mart from the erased raw data.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg2

from orchestration.activation.exports import scrub_exports, subject_cells
from orchestration.config import Settings
from orchestration.privacy.erasure_ledger import record_erasure
from orchestration.privacy.scrub import scrub_postgres, scrub_published, scrub_warehouse
from orchestration.privacy.subject import Subject, resolve_subject
from orchestration.publish.publisher import ROLLED_BACK_DIR, VERSIONS_DIR
from orchestration.redact import redact
from orchestration.warehouse import connect_file, duckdb_config

#: dlt keeps each completed load package (the delivered rows as Parquet / SQL files) under this folder.
DLT_LOADED_PACKAGES = "load/loaded"


class SubjectNotFound(LookupError):
    """Nothing in the warehouse belongs to the given id or email."""


@dataclass
class ErasureResult:
    request_id: str
    customer_records: int  # CRM records of the resolved person(s)
    identifiers_recorded: int  # new keyed hashes in the ledger
    deleted: dict[str, dict[str, int]] = field(default_factory=dict)  # target -> table -> rows
    dlt_packages_deleted: int = 0
    postgres_problem: str = ""  # PostgreSQL serving could not be reached: the next run that publishes there heals it

    def summary_lines(self) -> list[str]:
        """What `c360 erase` prints: counts per target, never an identifier."""
        lines = [
            f"erasure {self.request_id}: {self.customer_records} CRM record(s) of one resolved person; "
            f"{self.identifiers_recorded} keyed hashes added to the erasure ledger"
        ]
        for target, tables in self.deleted.items():
            total = sum(tables.values())
            lines.append(f"  {target}: {total:,} rows deleted from {len(tables)} table(s) or file(s)")
        lines.append(f"  dlt: {self.dlt_packages_deleted} kept load package(s) deleted")
        if self.postgres_problem:
            lines.append(
                f"  postgres serving: NOT erased ({self.postgres_problem}); the next run that publishes there replaces "
                "its marts with ones built without them"
            )
        return lines


def resolve(settings: Settings, customer_ids: set[str], emails: set[str]) -> Subject:
    if not settings.warehouse_path.exists():
        return Subject()
    with connect_file(settings.warehouse_path, read_only=True) as con:
        return resolve_subject(con, settings.pii_key, customer_ids, emails)


def published_files(published_path: Path) -> list[Path]:
    """The live file, every kept version and every rolled-back copy."""
    folder = published_path.parent
    copies = [
        p for d in (VERSIONS_DIR, ROLLED_BACK_DIR) for p in sorted((folder / d).glob(f"*{published_path.suffix}"))
    ]
    return [p for p in (published_path, *copies) if p.exists()]


def scrub_dlt_packages(dlt_dir: Path) -> int:
    """Delete the load packages dlt kept after loading (copies of delivered rows); returns how many."""
    packages = [p for p in dlt_dir.glob(f"*/{DLT_LOADED_PACKAGES}/*") if p.is_dir()]
    for package in packages:
        shutil.rmtree(package)
    return len(packages)


def erase(
    settings: Settings,
    request_id: str,
    requested_at: datetime,
    reason: str,
    customer_ids: set[str] = frozenset(),
    emails: set[str] = frozenset(),
) -> ErasureResult:
    """Erase the person(s) behind `customer_ids` / `emails` from every copy; SubjectNotFound if nobody matches."""
    subject = resolve(settings, set(customer_ids), set(emails))
    if not subject.found:
        raise SubjectNotFound("no CRM record, email or identity in the warehouse matches")
    return erase_subject(settings, subject, request_id, requested_at, reason)


def erase_subject(
    settings: Settings, subject: Subject, request_id: str, requested_at: datetime, reason: str
) -> ErasureResult:
    recorded = record_erasure(
        settings.data_dir, settings.pii_key, request_id, requested_at, reason, subject.ledger_identifiers()
    )
    result = ErasureResult(request_id, subject.crm_records, recorded)
    values = subject.values_table()
    export_cells = subject_cells(settings.warehouse_path, subject.values())  # before their contacts are deleted
    result.deleted["warehouse"] = scrub_warehouse(settings.warehouse_path, values, duckdb_config(settings))
    for path in published_files(settings.published_path):
        name = str(path.relative_to(settings.data_dir))
        result.deleted[name] = scrub_published(path, values, settings.publish_storage_version)
    result.deleted["activation exports"] = scrub_exports(settings.activation_dir, export_cells | subject.values())
    result.dlt_packages_deleted = scrub_dlt_packages(settings.dlt_dir)
    if settings.postgres_dsn:
        try:
            result.deleted["postgres serving"] = scrub_postgres(settings.postgres_dsn, sorted(subject.values()))
        except psycopg2.Error as exc:  # everything else is erased and the ledger holds them: say what is left
            result.postgres_problem = redact((str(exc).strip().splitlines() or [type(exc).__name__])[0])
    return result
