"""Which delivered files each load read (`audit.landing_files`): what landing-folder retention may delete.

The `files` source reads every file of the landing folder on every run (raw merges on keys), so a file is safe to
delete only once a load that read *exactly this version of it* was published. Each extract records, per file, its
size and modification time as they were *before* the read, with the load id; retention
(orchestration/publish/retention.py) stamps a file `published_at` once that load is published, and deletes it only
if it is still that same version. A file changed, replaced or added since, or whose load was never published, is
never deleted.
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


def record_files(con: duckdb.DuckDBPyConnection, table: str, load_id: str, files: list[DeliveredFile]) -> None:
    """This load read these file versions (a version read again keeps its first `published_at`)."""
    con.execute(DDL)
    if files:
        con.executemany(
            f"insert into {LANDING_FILES} (path, size, mtime_ns, table_name, load_id) values (?, ?, ?, ?, ?) "
            "on conflict do update set load_id = excluded.load_id, table_name = excluded.table_name",
            [[f.path, f.size, f.mtime_ns, table, load_id] for f in files],
        )
