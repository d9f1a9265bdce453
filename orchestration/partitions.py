"""The daily job's partitions: one per as-of date, so the UI shows which days ran and backfills a range of them.

The assets are not partitioned: every run rebuilds the warehouse as of its date (raw merges on keys, the models
rebuild or extend incrementally). A partition only fixes the run's as-of date: its key becomes the run's
`c360/as_of_date` tag (orchestration/as_of.py), the one value every asset and check of the run reads. Partitions
run from `C360_PARTITION_START` to today in the schedule's timezone (the scheduled run's own day included).
"""

from __future__ import annotations

from datetime import date

import dagster as dg

from orchestration.as_of import AS_OF_TAG
from orchestration.config import Settings, SettingsError


def as_of_partitions(settings: Settings) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(
        start_date=settings.partition_start.isoformat(),
        timezone=settings.schedule_timezone,
        end_offset=1,  # today's partition exists: the schedule runs as of its own day
    )


def _as_of_tags(partition_key: str) -> dict[str, str]:
    return {AS_OF_TAG: partition_key}


def as_of_config(settings: Settings) -> dg.PartitionedConfig:
    """The job's config: no run config of its own; a partition's key tags the run with its as-of date."""
    return dg.PartitionedConfig(
        partitions_def=as_of_partitions(settings),
        run_config_for_partition_key_fn=lambda _key: {},
        tags_for_partition_key_fn=_as_of_tags,
    )


def partition_key(settings: Settings, day: date) -> str:
    """The partition of an as-of date, or a one-line SettingsError saying why there is none and the fix."""
    partitions = as_of_partitions(settings)
    first, last = partitions.get_first_partition_key(), partitions.get_last_partition_key()
    key = day.isoformat()
    if first is not None and key < first:
        raise SettingsError(
            f"as-of date {key} is before C360_PARTITION_START={first}, the daily job's first day: set it earlier"
        )
    if last is None or key > last:
        raise SettingsError(
            f"as-of date {key} is after today ({last} in C360_SCHEDULE_TIMEZONE={settings.schedule_timezone}): "
            "a run cannot be as of a day that has not begun"
        )
    return key
