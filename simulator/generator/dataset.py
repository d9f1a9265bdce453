"""Select a delivered dataset from the world: the default snapshot or one daily increment, with its event ids."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from orchestration.extract.raw_contract import RAW_TABLES, ga4_event_id
from simulator.generator.world import World


@dataclass(frozen=True)
class Delivery:
    """What one delivery holds: tables in contract order, and the world rows they came from (for truth and dirt)."""

    tables: dict[str, pa.Table]
    rows: dict[str, np.ndarray]
    first_day: float  # internal day index of the first delivered day (-inf for the default snapshot)
    end_day: int  # exclusive


def deliver(world: World, increment: int | None = None, cumulative: bool = False) -> Delivery:
    """The default snapshot (increment None), increment N alone, or (cumulative) everything delivered up to and
    including increment N merged (what the default dataset of end_date + N holds; event ids left out)."""
    config = world.config
    if increment is None:
        first_day, end_day = -np.inf, config.cutoff_day
    else:
        end_day = config.increment_day(increment) + 1
        first_day = -np.inf if cumulative else end_day - 1
    tables: dict[str, pa.Table] = {}
    rows: dict[str, np.ndarray] = {}
    for spec in RAW_TABLES:
        if spec.name == "crm_products":  # the catalogue is exported in full every day
            tables[spec.name] = world.products
            rows[spec.name] = np.arange(world.products.num_rows)
            continue
        versioned = world.versioned[spec.name]
        picked = versioned.delivered(first_day, end_day)
        table = versioned.table.take(pa.array(picked))
        if spec.name == "ga4_events" and cumulative:
            table = table.add_column(0, "event_id", pa.nulls(table.num_rows, pa.string()))
        elif spec.name == "ga4_events":
            event_id = ga4_event_id(table["user_pseudo_id"], table["event_timestamp"], table["event_name"])
            table = table.add_column(0, "event_id", event_id)
        tables[spec.name] = table if cumulative else table.cast(spec.schema)
        rows[spec.name] = picked
    return Delivery(tables, rows, first_day, end_day)
