"""When a delivery to the `files` landing folder is complete: what the file-arrival sensor decides on.

Vendors' export jobs write their files one by one; a run that starts half-way through would load half a delivery.
So a delivery is complete only when its marker (`_SUCCESS` at the top of the landing folder, the Hadoop/Spark
convention, written last) is at least as new as every file in it. The marker's modification time and content
identify the delivery: the sensor's cursor and run key, so one delivery starts at most one run, and deleting old
files (landing retention) does not look like a new delivery. Files newer than the marker are a delivery still in
progress, or one whose marker never came: reported once it has stayed that way too long.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

MARKER = "_SUCCESS"


@dataclass(frozen=True)
class Delivery:
    """The landing folder as it is now: `key` identifies the last completed delivery (None: no marker yet)."""

    files: int
    key: str | None
    #: files changed after the marker (all files, if there is none): a delivery not complete yet
    pending: tuple[str, ...]
    newest_change: datetime | None

    @property
    def complete(self) -> bool:
        return self.key is not None and not self.pending

    def describe_pending(self, now: datetime) -> str:
        minutes = (now - self.newest_change).total_seconds() / 60 if self.newest_change else 0.0
        names = ", ".join(self.pending[:5]) + (f" and {len(self.pending) - 5} more" if len(self.pending) > 5 else "")
        return (
            f"delivery incomplete for {minutes:.0f} min: {len(self.pending)} file(s) changed after the last "
            f"{MARKER} marker ({names}); the export job must write {MARKER} last, once every file is written"
        )


def scan(landing_dir: Path) -> Delivery:
    """What is in `landing_dir` (recursively) relative to its marker."""
    files = [p for p in landing_dir.rglob("*") if p.is_file() and p.name != MARKER] if landing_dir.is_dir() else []
    mtimes = {p: p.stat().st_mtime_ns for p in files}
    newest = max(mtimes.values(), default=None)
    marker = landing_dir / MARKER
    if not marker.is_file():
        return Delivery(len(files), None, _names(landing_dir, mtimes), _when(newest))
    marker_mtime = marker.stat().st_mtime_ns
    key = hashlib.sha256(f"{marker_mtime}:".encode() + marker.read_bytes()).hexdigest()[:16]
    pending = _names(landing_dir, {p: m for p, m in mtimes.items() if m > marker_mtime})
    return Delivery(len(files), key, pending, _when(newest))


def _names(landing_dir: Path, mtimes: dict[Path, int]) -> tuple[str, ...]:
    return tuple(sorted(str(p.relative_to(landing_dir)) for p in mtimes))


def _when(mtime_ns: int | None) -> datetime | None:
    return None if mtime_ns is None else datetime.fromtimestamp(mtime_ns / 1e9, UTC)
