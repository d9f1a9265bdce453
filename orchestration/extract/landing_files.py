"""Which delivered files each load read (`audit.landing_files`): which file versions the next extract can skip,
and what landing-folder retention may delete.

Each extract records, per file it read, its size and modification time as they were *before* the read, with the
load id. The `files` source reads only versions no kept load read (`loaded_versions`): a new day's file, a
re-exported (changed) file; raw merges on keys, so the rows of the skipped ones are already there. A discarded load
forgets its tables' versions (ledger.discard_load): its delete may have taken rows an earlier file delivered, so
the next extract reads those tables whole. Retention (orchestration/publish/retention.py) stamps a file
`published_at` once a load that read exactly this version is published, and deletes it only if it is still that
same version. A file changed, replaced or added since, or whose load was never published, is never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.extract.vendor_files.export_reader import files_of
from orchestration.extract.vendor_files.mappings import file_spec

LANDING_FILES = "audit.landing_files"
DDL = f"""
create schema if not exists audit;
create table if not exists {LANDING_FILES} (
    path varchar not null,          -- relative to the landing folder
    size bigint not null,
    mtime_ns bigint not null,
    table_name varchar not null,
    load_id varchar not null,       -- the latest load that read this version of the file
    published_at timestamptz,       -- when a load that read this version was first published
    primary key (path, size, mtime_ns)
)
"""


@dataclass(frozen=True)
class DeliveredFile:
    path: str  # relative to the landing folder
    size: int
    mtime_ns: int


def delivered_files(landing_dir: Path, table: str) -> list[DeliveredFile]:
    """The `files` source's files for a raw table as they are now: call before reading them."""
    found = []
    for path in files_of(landing_dir, file_spec(table)):
        info = path.stat()
        found.append(DeliveredFile(str(path.relative_to(landing_dir)), info.st_size, info.st_mtime_ns))
    return found


def loaded_versions(con: duckdb.DuckDBPyConnection) -> dict[str, set[DeliveredFile]]:
    """Per raw table, the file versions a load that is not discarded read: their rows are in raw."""
    con.execute(DDL)
    ledger = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'audit' and table_name = 'loads'"
    ).fetchall()[0][0]
    discarded = "select load_id from audit.loads where discarded_at is not null" if ledger else "select null"
    rows = con.execute(
        f"select table_name, path, size, mtime_ns from {LANDING_FILES} where load_id not in ({discarded})"
    ).fetchall()
    versions: dict[str, set[DeliveredFile]] = {}
    for table, path, size, mtime_ns in rows:
        versions.setdefault(table, set()).add(DeliveredFile(path, size, mtime_ns))
    return versions


def forget_versions(con: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
    """The next extract reads these tables' files whole (after a discarded load)."""
    con.execute(DDL)
    con.execute(f"delete from {LANDING_FILES} where list_contains(?, table_name)", [tables])


def record_files(con: duckdb.DuckDBPyConnection, table: str, load_id: str, files: list[DeliveredFile]) -> None:
    """This load read these file versions (a version read again keeps its first `published_at`)."""
    con.execute(DDL)
    if files:
        con.executemany(
            f"insert into {LANDING_FILES} (path, size, mtime_ns, table_name, load_id) values (?, ?, ?, ?, ?) "
            "on conflict do update set load_id = excluded.load_id, table_name = excluded.table_name",
            [[f.path, f.size, f.mtime_ns, table, load_id] for f in files],
        )
