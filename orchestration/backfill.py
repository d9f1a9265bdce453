"""Backfill: the daily job once per as-of date of a range, oldest first, resumable, each day a normal daily run.

A day is the project's partition: a run tagged with its as-of date (`c360/as_of_date`, orchestration/as_of.py), so
every asset and check of it judges that day. With `deliveries`, each day's delivery (`<deliveries>/<YYYY-MM-DD>/`,
e.g. written by `c360 generate --increment N --out ...`, or a vendor's dated export folder) is copied over the
landing folder first, as a daily delivery would land. Raw merges on keys, so days run in order leave the warehouse a
single run at the last date would (tests/test_backfill.py).

Resumable and idempotent: every run carries the backfill's id (`c360/backfill`, its range); a day that already has
a healthy (succeeded and published) run with that id is skipped, so the same command after a failure starts at the
failed day. The range stops at the first failed day: later days build on it. `rerun=True` runs every day again.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from orchestration.alerts import run_is_healthy
from orchestration.as_of import AS_OF_TAG
from orchestration.run_outcome import outcome_from_instance

BACKFILL_TAG = "c360/backfill"


class BackfillError(ValueError):
    """The range or its deliveries cannot be backfilled. One line: what, and the fix."""


@dataclass(frozen=True)
class Plan:
    backfill_id: str
    days: list[date]
    #: day -> run id of this backfill's healthy run of it (skipped unless rerun)
    done: dict[date, str]
    deliveries: Path | None

    @property
    def tags(self) -> dict[str, str]:
        """Tags of each of its runs, besides the day's as-of tag (the UI's run list filters on them)."""
        return {BACKFILL_TAG: self.backfill_id}

    def delivery(self, day: date) -> Path | None:
        return None if self.deliveries is None else self.deliveries / day.isoformat()


def plan(
    instance: dg.DagsterInstance, first: date, last: date, deliveries: Path | None = None, rerun: bool = False
) -> Plan:
    """The days of `first..last` and which of them this backfill already did; every delivery checked up front."""
    if last < first:
        raise BackfillError(f"--to {last} is before --from {first}: give the earlier date first")
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if deliveries is not None:
        missing = [d.isoformat() for d in days if not (deliveries / d.isoformat()).is_dir()]
        if missing:
            raise BackfillError(
                f"no delivery folder for {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''} in "
                f"{deliveries}: each day needs <deliveries>/<YYYY-MM-DD>/ (e.g. c360 generate --increment N --out ...)"
            )
    backfill_id = f"{first.isoformat()}..{last.isoformat()}"
    return Plan(backfill_id, days, {} if rerun else _done(instance, backfill_id), deliveries)


def _done(instance: dg.DagsterInstance, backfill_id: str) -> dict[date, str]:
    runs = instance.get_runs(
        filters=dg.RunsFilter(tags={BACKFILL_TAG: backfill_id}, statuses=[dg.DagsterRunStatus.SUCCESS])
    )
    done: dict[date, str] = {}
    for run in runs:
        if run_is_healthy(outcome_from_instance(instance, run.run_id)):
            done.setdefault(date.fromisoformat(run.tags[AS_OF_TAG]), run.run_id)
    return done


def land(delivery: Path, landing_dir: Path) -> int:
    """Copy a day's delivery over the landing folder (same names replaced, as a daily delivery lands); files copied."""
    landing_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(delivery, landing_dir, dirs_exist_ok=True)
    return sum(1 for p in delivery.rglob("*") if p.is_file())
