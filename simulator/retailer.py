"""Seeded, vectorised generator of a fictional retailer's CRM, web-analytics and ad-platform data.

Why a generator: the product must run end to end on a fresh machine with no company data, and tests need data whose
true structure is known. Purchases follow a BG/NBD process (Fader, Hardie & Lee 2005) and spend a Gamma-Gamma
process, so the CLV marts have something true to find; the ground truth (identities, acquisition channels, order
attribution, parameters, dirt counts) is written beside the data. Every table is produced with NumPy/Arrow array
operations (no per-row Python loops), so scale is bounded by memory, not by the interpreter.

The simulated world runs HORIZON_DAYS past the anchor date: the default dataset is what has been delivered by
end_date, and increment N is what is delivered on day end_date + N (see generator/world.py and dataset.py). Each table
draws from its own random stream derived from the seed; the same config always yields identical tables.

The modules under simulator/generator/ each do one job: people (customer records and their dirt), orders,
loyalty (the programme's rules), web (sessions and events), ads, service (tickets, NPS, consents), world (assembly),
dataset (selection of a delivery), truth (the _truth files).
"""

from __future__ import annotations

import pyarrow as pa

from simulator.generator.dataset import deliver
from simulator.generator.generator_config import (
    DEFAULT_END_DATE,
    HORIZON_DAYS,
    SCALES,
    GeneratorConfig,
    Scale,
    TrueParameters,
)
from simulator.generator.orders import FX_TO_USD
from simulator.generator.truth import parameters, truth_tables, write_truth
from simulator.generator.world import BUILD_STEPS, Progress, build_world

__all__ = [
    "BUILD_STEPS",
    "DEFAULT_END_DATE",
    "FX_TO_USD",
    "HORIZON_DAYS",
    "SCALES",
    "GeneratorConfig",
    "Scale",
    "TrueParameters",
    "generate",
    "generate_with_truth",
    "write_truth",
]


def generate(
    config: GeneratorConfig, increment: int | None = None, progress: Progress | None = None
) -> dict[str, pa.Table]:
    """Every raw table of the embedded retailer, keyed by raw table name: the default dataset (everything delivered
    by config.end_date), or with `increment` N only what is delivered on day end_date + N."""
    return deliver(build_world(config, progress), increment).tables


def generate_with_truth(
    config: GeneratorConfig, increment: int | None = None, progress: Progress | None = None
) -> tuple[dict[str, pa.Table], dict[str, object]]:
    """Tables plus their truth, in memory: {"identities", "acquisition", "order_attribution", "consents",
    "customer_lifetimes" (Arrow tables), "dirt" (counts in these tables), "parameters"}. For an increment,
    identities, attribution and customer lifetimes cover everything delivered up to and including it."""
    world = build_world(config, progress)
    delivery = deliver(world, increment)
    cumulative = delivery if increment is None else deliver(world, increment, cumulative=True)
    end_day = config.cutoff_day if increment is None else config.increment_day(increment) + 1
    truth = truth_tables(world, delivery, cumulative, end_day)
    truth["parameters"] = parameters(world, increment)
    return delivery.tables, truth
