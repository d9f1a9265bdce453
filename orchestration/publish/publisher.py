"""Write-audit-publish's last step: copy the checked marts into a new DuckDB file and swap it in atomically.

BI tools hold the published file open read-only. Replacing it with `os.replace` (after the new file is complete,
checkpointed and closed) means a reader sees either the old file or the new one, never a half-written one:
open connections keep the old inode, new connections open the new file. The previous versions are kept as hard
links under `versions/` for rollback.

Modes (orchestration/data_dir.py): `published/` 0755 and the live file 0644, so a BI service user can open it;
`versions/` and `rolled_back/` 0700 with 0600 files, so old copies are the owner's only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from orchestration.data_dir import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, PUBLIC_DIR_MODE, PUBLIC_FILE_MODE
from orchestration.warehouse import connect_published, connect_scratch

VERSIONS_DIR = "versions"
ROLLED_BACK_DIR = "rolled_back"
PUBLISH_LOG = "_publish_log"
#: On-disk format of the published file. DuckDB 2.x writes format 999 by default, which DuckDB 1.x (bundled by many
#: BI drivers) cannot open; v1.0.0 storage is readable by every DuckDB since 1.0.
DEFAULT_STORAGE_VERSION = "v1.0.0"


@dataclass(frozen=True)
class PublishResult:
    path: Path
    tables: dict[str, int]
    previous_version: Path | None


def publish(
    warehouse_path: Path,
    published_path: Path,
    tables: list[tuple[str, str]],
    run_id: str,
    details: dict[str, object],
    keep: int = 3,
    storage_version: str = DEFAULT_STORAGE_VERSION,
) -> PublishResult:
    """Copy `tables` ([(schema, table)]) from the build warehouse into a fresh file and replace `published_path`."""
    published_path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(published_path.parent, PUBLIC_DIR_MODE)
    staging = published_path.with_name(f".{published_path.stem}.{run_id}.tmp")
    staging.unlink(missing_ok=True)
    row_counts: dict[str, int] = {}
    try:
        with connect_scratch() as con:
            con.execute(f"attach '{staging}' as published (storage_version '{storage_version}')")
            con.execute(f"attach '{warehouse_path}' as warehouse (read_only)")
            for schema, table in tables:
                con.execute(f'create table published."{table}" as select * from warehouse."{schema}"."{table}"')
                row_counts[table] = con.execute(f'select count(*) from published."{table}"').fetchall()[0][0]
            con.execute("detach warehouse")
            con.execute(
                f"create table published.{PUBLISH_LOG} "
                "(run_id varchar, published_at timestamptz, tables json, details json)"
            )
            con.execute(
                f"insert into published.{PUBLISH_LOG} values (?, ?, ?, ?)",
                [run_id, datetime.now(UTC), json.dumps(row_counts), json.dumps(details, default=str)],
            )
            con.execute("checkpoint published")
            con.execute("detach published")
        os.chmod(staging, PUBLIC_FILE_MODE)  # the BI user's mode from the moment it is live
        with open(staging, "rb") as handle:
            os.fsync(handle.fileno())
        previous = _keep_previous(published_path, keep)
        os.replace(staging, published_path)
        _fsync_dir(published_path.parent)
        if previous is not None:  # shared its inode with the live file until now
            os.chmod(previous, PRIVATE_FILE_MODE)
    finally:
        staging.unlink(missing_ok=True)
    return PublishResult(path=published_path, tables=row_counts, previous_version=previous)


class RollbackError(RuntimeError):
    """There is no previous published version to go back to."""


def rollback(published_path: Path) -> Path:
    """Make the newest kept version live again in one atomic step; the displaced file goes to rolled_back/.

    Returns the version that is live now. Rolling back twice goes back two versions.
    """
    versions = _versions(published_path)
    if not versions:
        raise RollbackError(
            f"no previous version of {published_path} is kept in {published_path.parent / VERSIONS_DIR}"
        )
    previous = versions[-1]
    displaced = None
    if published_path.exists():
        displaced = published_path.parent / ROLLED_BACK_DIR / previous.name.replace(".", ".displaced-by-rollback.", 1)
        displaced.parent.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
        os.link(published_path, displaced)
    staging = published_path.with_name(f".{published_path.stem}.rollback.tmp")
    staging.unlink(missing_ok=True)
    os.link(previous, staging)
    os.chmod(staging, PUBLIC_FILE_MODE)  # a kept version is the owner's only (0600) until it is live again
    os.replace(staging, published_path)
    _fsync_dir(published_path.parent)
    previous.unlink()
    if displaced is not None:  # shared its inode with the live file until now
        os.chmod(displaced, PRIVATE_FILE_MODE)
    return published_path


def _versions(published_path: Path) -> list[Path]:
    """Kept versions, oldest first (names carry a sortable UTC timestamp)."""
    return sorted((published_path.parent / VERSIONS_DIR).glob(f"{published_path.stem}.*{published_path.suffix}"))


def _keep_previous(published_path: Path, keep: int) -> Path | None:
    """Hard-link the live file into versions/ before it is replaced; prune to the newest `keep`."""
    if not published_path.exists() or keep <= 0:
        return None
    versions = published_path.parent / VERSIONS_DIR
    versions.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    kept = versions / f"{published_path.stem}.{stamp}{published_path.suffix}"
    os.link(published_path, kept)
    for old in _versions(published_path)[:-keep]:
        old.unlink()
    return kept


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def storage_format(path: Path) -> int:
    """DuckDB storage format number from the file header (64 = v1.0.0 storage, readable by DuckDB >= 1.0)."""
    with path.open("rb") as handle:
        header = handle.read(20)
    if header[8:12] != b"DUCK":
        raise ValueError(f"{path} is not a DuckDB database file")
    return int.from_bytes(header[12:20], "little")


def published_tables(published_path: Path) -> dict[str, int]:
    """Row count per table of the live published file (read-only, as a BI tool would open it)."""
    with connect_published(published_path) as con:
        names = [r[0] for r in con.execute("select table_name from information_schema.tables order by 1").fetchall()]
        return {n: con.execute(f'select count(*) from "{n}"').fetchall()[0][0] for n in names}
