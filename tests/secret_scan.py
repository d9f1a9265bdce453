"""Where a secret could be written during a run: every file under the data dir, and dbt's target dir as far as the
run wrote it.

Not the whole `dbt_project/target`: it holds every earlier run's dbt call dir (~13 MB each, hundreds of MB in a
test session), which belong to other tests' runs."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from orchestration.transform.project import dbt_project, project_target_dir


def files_holding(paths: Iterable[Path], needles: Iterable[bytes]) -> list[str]:
    """Every file among `paths` (files, and folders walked) that holds any of `needles`; each file is read once."""
    needles = list(needles)
    found = []
    for path in paths:
        for file in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
            content = file.read_bytes()
            if any(needle in content for needle in needles):
                found.append(str(file))
    return found


def dbt_target_of_runs(run_ids: Iterable[str]) -> list[Path]:
    """The dbt call dirs of these runs (`<step>-<run id's first 7>-<call id>`) and the project's own files beside
    them (manifest, parse cache)."""
    prefixes = {f"-{run_id[:7]}-" for run_id in run_ids}
    target = project_target_dir(dbt_project())
    return [entry for entry in target.iterdir() if entry.is_file() or any(p in entry.name for p in prefixes)]
