"""Retention, enforced after every successful publish: old landing files, quarantine rows and published copies go.

Each rule a number of days (settings `C360_LANDING_RETENTION_DAYS`, `C360_QUARANTINE_RETENTION_DAYS`,
`C360_PUBLISH_MAX_AGE_DAYS`, `C360_DBT_RUN_DIR_RETENTION_DAYS`; `none` keeps forever). "Older than N days" means
strictly before `now - N days`.

- **Landing files** (`files` source only): a delivered file is deleted when the load that read this exact version
  of it (`audit.landing_files`) was published more than N days ago. Raw keeps its rows (raw merges, never deletes).
  Never deleted: a file no published load read (an unpublished or rejected delivery), a file changed since it was
  read, and the newest file of each table (so the next run still finds a delivery of every table). The Parquet
  landing folders of `synthetic`/`postgres` hold one file per table, the current delivery: nothing to retain.
- **Quarantine rows**: `audit.quarantine` rows whose `_loaded_at` (the latest load that brought the bad record) is
  older than N days. DuckDB keeps deleted rows' bytes in the file after DELETE and CHECKPOINT, so when any row is
  deleted the warehouse file is rewritten (warehouse.rewrite_file) and the records are really gone.
- **Published copies**: files under `published/versions/` and `published/rolled_back/` written (published) more
  than N days ago, on top of the count limit `C360_PUBLISH_KEEP`. The live file is never touched.
- **dbt's run dirs**: each dbt call of a run writes its own target dir under `dbt_project/target/`
  (`<step>-<run id>-<call id>`: compiled and run SQL, manifest, run_results, dbt.log; ~12 MB at XS); those last
  written more than N days ago (`C360_DBT_RUN_DIR_RETENTION_DAYS`) are deleted, so a daily schedule does not fill the
  disk. By age, not count: a run still writing its dir (or another process's) is never older than N days.
- **Audience exports**: run folders under `published/activation/` (hashed and clear contacts of consented
  customers) follow the published copies: the newest `C360_PUBLISH_KEEP` + 1 (the live run's and one per kept
  version) are kept, and none older than `C360_PUBLISH_MAX_AGE_DAYS`.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from orchestration.extract.landing_files import DDL as LANDING_FILES_DDL
from orchestration.extract.landing_files import LANDING_FILES, delivered_files
from orchestration.extract.ledger import DDL as LEDGER_DDL
from orchestration.extract.ledger import LEDGER
from orchestration.extract.quarantine import DDL as QUARANTINE_DDL
from orchestration.extract.quarantine import QUARANTINE
from orchestration.publish.publisher import ROLLED_BACK_DIR, VERSIONS_DIR
from orchestration.transform.project import RUN_TARGET_DIR
from orchestration.warehouse import connect_file, rewrite_file


@dataclass(frozen=True)
class RetentionResult:
    landing_files_deleted: list[str]  # relative to the landing folder
    quarantine_rows_deleted: int
    warehouse_bytes_released: int  # by the rewrite after quarantine rows were deleted (0: no rewrite)
    published_copies_deleted: list[str]  # relative to published/


def _cutoff(now: datetime, days: int | None) -> datetime | None:
    return None if days is None else now - timedelta(days=days)


def _written_before(path: Path, cutoff: datetime) -> bool:
    return datetime.fromtimestamp(path.stat().st_mtime, cutoff.tzinfo) < cutoff


def prune_landing(warehouse_path: Path, landing_dir: Path, days: int | None, now: datetime) -> list[str]:
    """Delete delivered files whose version a load published more than `days` ago; returns their relative paths."""
    cutoff = _cutoff(now, days)
    with connect_file(warehouse_path) as con:
        con.execute(LEDGER_DDL)
        con.execute(LANDING_FILES_DDL)
        # A file version counts as published from the first publish of a load that read it (the ledger's time).
        con.execute(
            f"update {LANDING_FILES} f set published_at = l.published_at from {LEDGER} l "
            "where f.published_at is null and l.load_id = f.load_id and l.table_name = f.table_name "
            "and l.published_at is not null and l.discarded_at is null"
        )
        if cutoff is None:
            return []
        candidates = con.execute(
            f"select path, size, mtime_ns, table_name from {LANDING_FILES} "
            "where published_at is not null and published_at < ? order by path",
            [cutoff],
        ).fetchall()
        newest = {}  # per table: its last file in read order, kept so every table keeps a delivery
        deleted, forgotten = [], []
        for path, size, mtime_ns, table in candidates:
            if table not in newest:
                current = delivered_files(landing_dir, table)
                newest[table] = current[-1].path if current else None
            file = landing_dir / path
            if not file.exists():
                forgotten.append((path, size, mtime_ns))
                continue
            info = file.stat()
            if (info.st_size, info.st_mtime_ns) != (size, mtime_ns) or path == newest[table]:
                continue  # changed since that load read it (a new version, not yet published), or the newest
            file.unlink()
            deleted.append(path)
            forgotten.append((path, size, mtime_ns))
        if forgotten:
            gone = f"delete from {LANDING_FILES} where path = ? and size = ? and mtime_ns = ?"
            con.executemany(gone, [list(f) for f in forgotten])
    return deleted


def prune_quarantine(
    warehouse_path: Path, days: int | None, now: datetime, config: dict[str, str] | None = None
) -> tuple[int, int]:
    """Delete quarantine rows loaded more than `days` ago and rewrite the file so their bytes are gone.
    Returns (rows deleted, bytes the file shrank by)."""
    cutoff = _cutoff(now, days)
    if cutoff is None:
        return 0, 0
    with connect_file(warehouse_path, config=config) as con:
        con.execute(QUARANTINE_DDL)
        deleted = con.execute(f"delete from {QUARANTINE} where _loaded_at < ?", [cutoff]).fetchall()[0][0]
    if not deleted:
        return 0, 0
    return deleted, rewrite_file(warehouse_path, config)


def prune_published_copies(published_path: Path, days: int | None, now: datetime) -> list[str]:
    """Delete kept and rolled-back published files written more than `days` ago; never the live file."""
    cutoff = _cutoff(now, days)
    if cutoff is None:
        return []
    deleted = []
    for folder in (VERSIONS_DIR, ROLLED_BACK_DIR):
        for path in sorted((published_path.parent / folder).glob(f"*{published_path.suffix}")):
            if _written_before(path, cutoff):
                path.unlink()
                deleted.append(str(path.relative_to(published_path.parent)))
    return deleted


def prune_activation_exports(activation_dir: Path, keep: int, days: int | None, now: datetime) -> list[str]:
    """Delete audience export folders beyond the newest `keep` + 1 or written more than `days` ago."""
    if not activation_dir.is_dir():
        return []
    folders = sorted(
        (p for p in activation_dir.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
    )
    cutoff = _cutoff(now, days)
    newest = folders[-(keep + 1) :] if keep >= 0 else folders
    deleted = []
    for folder in folders:
        too_old = cutoff is not None and _written_before(folder, cutoff)
        if folder not in newest or too_old:
            shutil.rmtree(folder)
            deleted.append(folder.name)
    return deleted


def prune_dbt_run_dirs(target_dir: Path, days: int | None, now: datetime) -> list[str]:
    """Delete the per-call dbt target dirs under `target_dir` last written more than `days` ago; never the project's
    own artifacts beside them (manifest, parse cache)."""
    cutoff = _cutoff(now, days)
    if cutoff is None or not target_dir.is_dir():
        return []
    deleted = []
    for folder in sorted(target_dir.iterdir()):
        if folder.is_dir() and RUN_TARGET_DIR.fullmatch(folder.name) and _written_before(folder, cutoff):
            shutil.rmtree(folder)
            deleted.append(folder.name)
    return deleted
