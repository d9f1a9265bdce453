"""Ground truth beside a delivered dataset (contract: TRUTH.md): who is who, where people came from, which channel
sold each order, the true process parameters, and exact counts of the dirt in the delivered rows."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from orchestration.extract.ad_platforms import AD_PLATFORMS
from simulator.generator import ads, loyalty
from simulator.generator.channels import MEDIUMS, PLATFORMS, SOURCES
from simulator.generator.common import seconds
from simulator.generator.dataset import Delivery
from simulator.generator.world import World

TRUTH_DIR = "_truth"


def person_ids(index: np.ndarray) -> pa.Array:
    return pa.array(np.char.add("person_", np.char.zfill(index.astype(str), 8)))


def _pairs(identifier: pa.Array, person: np.ndarray, kind: str) -> pa.Table:
    table = pa.table({"identifier": identifier, "person": person}).filter(pc.is_valid(identifier))
    table = table.group_by(["identifier", "person"]).aggregate([])
    if table.num_rows != len(pc.unique(table["identifier"])):
        raise AssertionError(f"a {kind} belongs to two people")  # a generator bug, never dirt
    return pa.table(
        {
            "identifier_type": pa.array(np.full(table.num_rows, kind)),
            "identifier": table["identifier"],
            "person_id": person_ids(table["person"].to_numpy()),
        }
    ).sort_by("identifier")


def _customer_person(world: World) -> np.ndarray:
    """Person index per customer record row (test accounts: the persons after every signed-up one)."""
    return world.people.records.person


def identities(world: World, delivery: Delivery) -> tuple[pa.Table, np.ndarray]:
    """Every identifier in the delivered tables with its person; and the sorted person indices seen."""
    customers = delivery.tables["crm_customers"]
    record_person = _customer_person(world)
    c_person = record_person[delivery.rows["crm_customers"]]
    events = delivery.tables["ga4_events"]
    session = world.events.session[delivery.rows["ga4_events"]]
    e_person = world.sessions.person[session]
    # user_id is a customer_id (C + 1-based record row): its person is the record's person.
    uid = events["user_id"]
    logged_in = pc.is_valid(uid).to_numpy(zero_copy_only=False)
    number = pc.cast(pc.utf8_slice_codeunits(pc.fill_null(uid, "C1"), 1), pa.int64()).to_numpy()
    u_person = np.where(logged_in, record_person[number - 1], -1)
    parts = [
        _pairs(customers["customer_id"], c_person, "customer_id"),
        _pairs(customers["email"], c_person, "email"),
        _pairs(events["user_pseudo_id"], e_person, "user_pseudo_id"),
        _pairs(events["user_id"], u_person, "user_id"),
        *(_pairs(events[p.click_id], e_person, p.click_id) for p in AD_PLATFORMS),
    ]
    people = np.unique(np.concatenate([c_person, e_person]))
    return pa.concat_tables(parts), people


def _channel_columns(prefix: str, session: np.ndarray, world: World) -> dict[str, pa.Array]:
    """source/medium/campaign/platform of the given sessions (-1 = none: nulls and platform '')."""
    s = world.sessions
    valid = session >= 0
    ch = s.channel[np.maximum(session, 0)]
    camp = s.campaign[np.maximum(session, 0)]
    names = np.array(world.campaigns.name + ["weekly_newsletter", None], dtype=object)
    camp_name = np.where(camp >= 0, names[np.maximum(camp, 0)], np.where(ch == 2, names[-2], None))
    return {
        f"{prefix}source": pa.array(np.where(valid, np.array(SOURCES)[ch], None), pa.string()),
        f"{prefix}medium": pa.array(np.where(valid, np.array(MEDIUMS)[ch], None), pa.string()),
        f"{prefix}campaign": pa.array(np.where(valid, camp_name, None), pa.string()),
        f"{prefix}platform": pa.array(np.where(valid, np.array(PLATFORMS)[ch], "")),
    }


def _first_session(world: World) -> np.ndarray:
    """First session row per person index (-1 when the person never visited)."""
    person = world.sessions.person  # sessions are sorted by person, then start
    n_people = world.people.n_signed + world.people.n_test + world.people.n_anonymous
    first = np.full(n_people, -1)
    starts = np.flatnonzero(np.concatenate([[True], person[1:] != person[:-1]]))
    first[person[starts]] = starts
    return first


def acquisition(world: World, index: np.ndarray) -> pa.Table:
    """Channel of the first web session of each given person who ever visited."""
    first = _first_session(world)[index]
    index = index[first >= 0]
    columns = _channel_columns("", first[first >= 0], world)
    return pa.table({"person_id": person_ids(index), **columns})


def order_attribution(world: World, delivery: Delivery) -> pa.Table:
    orders = delivery.tables["crm_orders"]
    row = world.versioned["crm_orders"].key[delivery.rows["crm_orders"]]
    person = world.people.records.person[world.orders.record[row]]
    bought = world.orders.person[row] >= 0  # test accounts' orders come from no web session
    s = world.sessions
    session_of_order = np.full(len(world.orders.day), -1)
    purchase_sessions = np.flatnonzero(s.order >= 0)
    session_of_order[s.order[purchase_sessions]] = purchase_sessions
    first = _first_session(world)[person]
    return pa.table(
        {
            "order_id": orders["order_id"],
            "person_id": person_ids(person),
            **_channel_columns("last_touch_", np.where(bought, session_of_order[row], -1), world),
            **_channel_columns("first_touch_", first, world),
        }
    )


def consents(world: World, delivery: Delivery) -> pa.Table:
    """Each person's current consent per channel: the latest delivered event over all of the person's CRM records
    (a person acts on whichever record; their latest word stands), a withdrawal winning a tie. Persons and channels
    without any event are absent: they never consented."""
    events = delivery.tables["crm_consents"]
    if events.num_rows == 0:
        return pa.table(
            {
                "person_id": pa.array([], pa.string()),
                "channel": pa.array([], pa.string()),
                "status": pa.array([], pa.string()),
            }
        )
    row = pc.cast(pc.utf8_slice_codeunits(events["customer_id"], 1), pa.int64()).to_numpy() - 1
    person = world.people.records.person[row]
    channel = events["channel"].to_numpy(zero_copy_only=False).astype(str)
    withdrawn = (events["status"].to_numpy(zero_copy_only=False) == "withdrawn").astype(np.int8)
    at = pc.cast(events["changed_at"], pa.int64()).to_numpy()
    order = np.lexsort((withdrawn, at, channel, person))
    person, channel, withdrawn = person[order], channel[order], withdrawn[order]
    last = np.concatenate([(person[1:] != person[:-1]) | (channel[1:] != channel[:-1]), [True]])
    return pa.table(
        {
            "person_id": person_ids(person[last]),
            "channel": pa.array(channel[last]),
            "status": pa.array(np.where(withdrawn[last] == 1, "withdrawn", "granted")),
        }
    )


def dirt(world: World, delivery: Delivery) -> dict[str, int]:
    """Exact counts of each kind of injected dirt in this delivery's rows."""
    records = world.people.records
    c_rows = delivery.rows["crm_customers"]
    customers = delivery.tables["crm_customers"]
    o_versions = delivery.rows["crm_orders"]
    o_rows = world.versioned["crm_orders"].key[o_versions]
    emails = customers["email"]
    e_rows = delivery.rows["ga4_events"]
    event_day = delivery.tables["ga4_events"]["event_timestamp"].to_numpy() - world.config.start.timestamp() * 1e6
    event_day = np.floor(event_day / 86_400e6).astype(np.int64)
    ads_restated = sum(
        int(
            (
                np.floor(world.versioned[t].arrival[delivery.rows[t]])
                - world.versioned[t].key[delivery.rows[t]] % world.config.universe_days
                > 1
            ).sum()
        )
        for t in (p.raw_table for p in AD_PLATFORMS)
    )
    return {
        "duplicate_customer_records": int((records.kind[c_rows] == 1).sum()),
        "test_accounts": int((records.kind[c_rows] == 2).sum()),
        "test_account_orders": int((world.orders.person[o_rows] < 0).sum()),
        "null_emails": emails.null_count,
        "malformed_emails": emails.length() - emails.null_count - int(email_well_formed(emails).sum()),
        "lowercase_currency_orders": int(np.char.islower(world.orders.currency[o_rows].astype(str)).sum()),
        "refunded_orders": int((world.order_version[o_versions] == 1).sum()),
        "redelivered_orders": int((world.order_version[o_versions] == 1).sum()),
        "late_events": int((world.events.arrival_day[e_rows] > event_day).sum()),
        "restated_ad_rows": ads_restated,
    }


EMAIL_WELL_FORMED = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def email_well_formed(emails: pa.Array) -> np.ndarray:
    """The generator's own notion (surrounding whitespace is casing-style dirt, not a malformed address)."""
    trimmed = pc.utf8_trim_whitespace(emails)
    return pc.fill_null(pc.match_substring_regex(trimmed, EMAIL_WELL_FORMED), False).to_numpy(zero_copy_only=False)


def parameters(world: World, increment: int | None) -> dict[str, object]:
    config = world.config
    truth = asdict(config.truth)
    return {
        "mbgnbd": {k: truth[k] for k in ("r", "alpha", "a", "b")},
        "gamma_gamma": {k: truth[k] for k in ("p", "q", "gamma")},
        "time_unit": "day",
        "spend_currency": "USD",
        "loyalty_programme": loyalty.programme(),
        "ad_cost_per_click": {PLATFORMS[c]: cpc for c, cpc in ads.CPC.items()},
        "campaign_cpc_factor_range": list(ads.CAMPAIGN_CPC_FACTOR),
        "refund_rate": config.truth.refund_rate,
        "share_of_signups_who_buy": config.truth.share_of_signups_who_buy,
        "scale": config.scale,
        "seed": config.seed,
        "end_date": config.end_date.isoformat(),
        "anchor_date": config.anchor.isoformat(),
        "increment": increment,
    }


def customer_lifetimes(world: World, cumulative: Delivery, end_day: int) -> pa.Table:
    """Each buyer's true state at the end of the delivered data (internal day `end_day`, exclusive): the time they
    dropped out (MBG/NBD: right after a purchase, possibly the first) or null while still alive. Every person with a
    delivered order appears; a dropout after `end_day` is not yet known and stays null."""
    o_rows = world.versioned["crm_orders"].key[cumulative.rows["crm_orders"]]
    person = np.unique(world.orders.person[o_rows])
    person = person[person >= 0]  # test accounts come from no purchase process
    dropped = world.orders.dropout_day[person]
    alive = ~(dropped < end_day)
    t0_us = int(world.config.start.timestamp() * 1_000_000)
    return pa.table(
        {
            "person_id": person_ids(person),
            "dropped_out_at": seconds(t0_us, np.where(alive, 0.0, dropped), mask=alive),
        }
    )


def truth_tables(world: World, delivery: Delivery, cumulative: Delivery, end_day: int) -> dict[str, object]:
    """Truth for a delivery: identities, acquisition, attribution and customer lifetimes describe everything
    delivered so far (`cumulative`, the merged state, up to internal day `end_day` exclusive); dirt counts describe
    this delivery's own rows."""
    ident, people = identities(world, cumulative)
    return {
        "identities": ident,
        "acquisition": acquisition(world, people),
        "order_attribution": order_attribution(world, cumulative),
        "consents": consents(world, cumulative),
        "customer_lifetimes": customer_lifetimes(world, cumulative, end_day),
        "dirt": dirt(world, delivery),
    }


def write_truth(truth: dict[str, object], parameters_: dict[str, object], out_dir: Path) -> Path:
    """Write `<out_dir>/_truth/`: five Parquet files and two JSON files, each replaced atomically."""
    target = out_dir / TRUTH_DIR
    target.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes | pa.Table] = {
        "parameters.json": json.dumps(parameters_, indent=2, sort_keys=True).encode(),
        "dirt.json": json.dumps(truth["dirt"], indent=2, sort_keys=True).encode(),
    }
    for name in ("identities", "acquisition", "order_attribution", "consents", "customer_lifetimes"):
        files[f"{name}.parquet"] = truth[name]
    for name, content in files.items():
        tmp = target / f".{name}.tmp"
        if isinstance(content, bytes):
            tmp.write_bytes(content)
        else:
            pq.write_table(content, tmp, compression="zstd")
        os.replace(tmp, target / name)
    return target
