"""The data dir's file modes as orchestration/data_dir.py promises them, for tests of runs that end in any state."""

from __future__ import annotations

import stat
from pathlib import Path

from orchestration.config import Settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_private_except_published(settings: Settings) -> None:
    """The live published file and its folder are BI's (0644 / 0755); everything else is the owner's: folders 0700,
    files 0600."""
    published_dir = settings.published_path.parent
    assert (mode(published_dir), mode(settings.published_path)) == (0o755, 0o644)
    wrong = {
        str(p.relative_to(settings.data_dir)): oct(mode(p))
        for p in settings.data_dir.rglob("*")
        if p not in (published_dir, settings.published_path)
        and not p.is_symlink()
        and mode(p) != (0o700 if p.is_dir() else 0o600)
    }
    assert wrong == {}
