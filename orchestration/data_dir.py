"""Who may read the runtime state under $C360_DATA_DIR: the warehouse's own OS user, except what BI reads.

The warehouse, the landing folder, the audit state (ledger, quarantine), dlt state, reports and run history hold
personal data; only the published marts are meant for other users (a BI service account). Modes:

| path | mode | why |
|---|---|---|
| `$C360_DATA_DIR` | 0711 | others may pass through to `published/`, but not list or open anything else |
| everything in it but `published/` | dirs 0700, files 0600 | the owner only |
| `published/` | 0755 | a BI user lists and opens the live file |
| `published/marts.duckdb` | 0644 | what BI reads (read-only) |
| `published/versions/`, `published/rolled_back/` | 0700 / 0600 | rollback copies: the owner only |

A plain 0700 on the data dir would also lock BI out of `published/`; 0711 (traverse, no read) keeps every name
and file but the published ones unreadable. The modes are set when the data dir is created (with a private umask
for the process, so files DuckDB, dlt and Dagster create mid-run are private from the start) and enforced again at
the end of every successful run (`enforce_permissions`), which also repairs anything changed between runs.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for annotations: config reads the raw contract, which opens DuckDB through warehouse.py
    from orchestration.config import Settings

DATA_DIR_MODE = 0o711
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
PUBLIC_DIR_MODE = 0o755
PUBLIC_FILE_MODE = 0o644
#: New files and folders of a process that writes the warehouse: owner only.
PRIVATE_UMASK = 0o077
#: Folders of published/ that are not for BI.
PRIVATE_PUBLISHED_DIRS = ("versions", "rolled_back")


def ensure_data_dir(settings: Settings) -> Path:
    """Create the data dir (and `published/`) with their modes, and make this process create private files.

    Called where a run starts (the runner, the extract and publish steps, every warehouse connection); cheap.
    """
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)  # parents with the usual umask: BI may need to traverse them
    os.umask(PRIVATE_UMASK)
    _chmod(data_dir, DATA_DIR_MODE)
    published = settings.published_path.parent
    published.mkdir(exist_ok=True)
    _chmod(published, PUBLIC_DIR_MODE)
    return data_dir


@dataclass(frozen=True)
class PermissionsResult:
    changed: int  # entries whose mode was wrong and is now right
    not_owned: list[str]  # entries whose mode we may not change (another user's upload): named in the metadata


def enforce_permissions(settings: Settings) -> PermissionsResult:
    """Set every mode of the table above, walking the whole data dir (symlinks are left alone)."""
    ensure_data_dir(settings)
    data_dir, published_dir = settings.data_dir, settings.published_path.parent
    changed, not_owned = 0, []
    for root, dirs, files in os.walk(data_dir):
        folder = Path(root)
        for name in dirs:
            path = folder / name
            mode = PUBLIC_DIR_MODE if path == published_dir else PRIVATE_DIR_MODE
            changed, not_owned = _apply(path, mode, changed, not_owned)
        for name in files:
            path = folder / name
            mode = PUBLIC_FILE_MODE if path == settings.published_path else PRIVATE_FILE_MODE
            changed, not_owned = _apply(path, mode, changed, not_owned)
    return PermissionsResult(changed=changed, not_owned=not_owned)


def _apply(path: Path, mode: int, changed: int, not_owned: list[str]) -> tuple[int, list[str]]:
    try:
        info = path.lstat()
    except FileNotFoundError:  # removed while walking (a temp file)
        return changed, not_owned
    if stat.S_ISLNK(info.st_mode) or stat.S_IMODE(info.st_mode) == mode:
        return changed, not_owned
    try:
        os.chmod(path, mode)
    except PermissionError:
        return changed, [*not_owned, str(path)]
    return changed + 1, not_owned


def _chmod(path: Path, mode: int) -> None:
    if stat.S_IMODE(path.stat().st_mode) != mode:
        os.chmod(path, mode)
