"""The simulated world, built once per config: every version of every row with the day it is delivered.

A dataset is a selection from it: the default dataset is everything delivered before `end_date + 1`; increment N is
what is delivered on day end_date + N (the latest version per key of that day).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from simulator.generator import ads, loyalty, service
from simulator.generator.channels import Campaigns, campaigns
from simulator.generator.common import Versioned, ids, seconds
from simulator.generator.generator_config import GeneratorConfig
from simulator.generator.orders import Orders, make_orders, products
from simulator.generator.people import People, make_people
from simulator.generator.web import Events, Sessions, make_web

#: A progress callback: (step name, rows produced, seconds taken).
Progress = Callable[[str, int, float], None]
#: The steps build_world reports, in order.
BUILD_STEPS = ("customers", "orders", "loyalty", "web", "ads", "service")


@dataclass(frozen=True)
class World:
    config: GeneratorConfig
    people: People
    orders: Orders
    sessions: Sessions
    events: Events
    campaigns: Campaigns
    products: pa.Table
    versioned: dict[str, Versioned]  # raw table name -> versions (products excepted: a full snapshot every day)
    order_version: np.ndarray  # per crm_orders version row: 0 as placed, 1 refund
    loyalty_event_type: np.ndarray


def build_world(config: GeneratorConfig, progress: Progress | None = None) -> World:
    import time

    def step(name: str, rows: int, started: float) -> None:
        if progress:
            progress(name, rows, time.perf_counter() - started)

    t0_us = int(config.start.timestamp() * 1_000_000)
    world_days = config.universe_days

    started = time.perf_counter()
    people = make_people(config)
    records = people.records
    customer_ids = ids("C", len(records.person))
    customers = records.table.add_column(0, "customer_id", customer_ids)
    customers = customers.append_column("signed_up_at", seconds(t0_us, records.signup_day))
    customers = customers.append_column("updated_at", seconds(t0_us, records.signup_day))
    step("customers", customers.num_rows, started)

    started = time.perf_counter()
    catalogue = products(config)
    catalogue = catalogue.append_column("updated_at", seconds(t0_us, np.zeros(catalogue.num_rows)))
    orders = make_orders(config, people, catalogue)
    n_orders = len(orders.day)
    order_ids = ids("O", n_orders, 8)
    refunds = np.flatnonzero(orders.refunded)
    o_rows = np.concatenate([np.arange(n_orders), refunds])
    o_version = np.concatenate([np.zeros(n_orders, np.int8), np.ones(len(refunds), np.int8)])
    o_at = np.concatenate([orders.day, orders.refund_day[refunds]])
    order_table = pa.table(
        {
            "order_id": order_ids.take(pa.array(o_rows)),
            "customer_id": customer_ids.take(pa.array(orders.record[o_rows])),
            "ordered_at": seconds(t0_us, orders.day[o_rows]),
            "currency": pa.array(orders.currency[o_rows]),
            "order_total": orders.total[o_rows],
            "status": pa.array(["completed", "refunded"]).take(pa.array(o_version)),
            "updated_at": seconds(t0_us, o_at),
        }
    )
    line_at = orders.day[orders.line_order]
    lines = orders.lines.append_column("updated_at", seconds(t0_us, line_at))
    step("orders", order_table.num_rows + lines.num_rows, started)

    started = time.perf_counter()
    rec, kind, pts, order_row, when = loyalty.ledger(orders, world_days)
    loyalty_table = pa.table(
        {
            "loyalty_event_id": ids("LE", len(rec), 8),
            "customer_id": customer_ids.take(pa.array(rec)),
            "event_type": loyalty.EVENT_TYPES.take(pa.array(kind)),
            "points": pts,
            "order_id": order_ids.take(pa.array(order_row, mask=order_row < 0)),
            "occurred_at": seconds(t0_us, when),
            "updated_at": seconds(t0_us, when),
        }
    )
    step("loyalty", len(rec), started)

    started = time.perf_counter()
    camps = campaigns()
    sessions, events = make_web(config, people, orders, camps, customer_ids, order_ids)
    step("web", events.table.num_rows, started)

    started = time.perf_counter()
    reports = ads.make_ads(config, sessions, camps)
    step("ads", sum(r.table.num_rows for r in reports.values()), started)

    started = time.perf_counter()
    tickets = service.tickets(config, orders, customer_ids, t0_us)
    nps = service.nps(config, people, orders, customer_ids, t0_us)
    consents = service.consents(config, people, customer_ids, t0_us)
    step("service", tickets.table.num_rows + nps.table.num_rows + consents.table.num_rows, started)

    versioned = {
        "crm_customers": Versioned(customers, np.arange(customers.num_rows), records.signup_day),
        "crm_orders": Versioned(order_table, o_rows, o_at),
        "crm_order_lines": Versioned(lines, np.arange(lines.num_rows), line_at),
        "crm_loyalty_events": Versioned(loyalty_table, np.arange(len(rec)), when),
        "crm_support_tickets": tickets,
        "crm_nps_responses": nps,
        "crm_consents": consents,
        "ga4_events": Versioned(events.table, np.arange(events.table.num_rows), events.arrival_day.astype(float)),
        **reports,
    }
    return World(config, people, orders, sessions, events, camps, catalogue, versioned, o_version, kind)
