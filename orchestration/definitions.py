"""The Dagster code location: one Definitions merged from each area, built when Dagster loads it (not at import)."""

from __future__ import annotations

import dagster as dg

from orchestration import schedules, sensors
from orchestration.activation import assets as activation
from orchestration.config import Settings
from orchestration.extract import assets as extract
from orchestration.publish import assets as publish
from orchestration.quality import checks as quality
from orchestration.transform import assets as transform


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions.merge(
        extract.definitions(settings),
        quality.definitions(settings),
        transform.definitions(settings),
        publish.definitions(settings),
        activation.definitions(settings),
        schedules.definitions(settings),
        sensors.definitions(settings),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(Settings.from_env())
