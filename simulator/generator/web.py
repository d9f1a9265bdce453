"""GA4-style web sessions and events, and which device, login and channel each belongs to.

Sessions: anonymous browsing before signup (on the person's first device, no user_id), the signup session, one
session per order (ending in the purchase event at the order's time), later browsing (mostly logged in), and
visitors who never sign up. Some people use two devices. Paid sessions carry a click id (gclid for Google Ads,
fbclid for Meta, ttclid for TikTok) and UTM values naming the ad platforms' campaigns. A few events reach the
export 1-3 days late.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from simulator.generator.channels import (
    DIRECT,
    EMAIL,
    EMAIL_CAMPAIGN,
    GOOGLE,
    MEDIUMS,
    META,
    ORGANIC,
    RETURN_VISIT_WEIGHTS,
    SOURCES,
    TIKTOK,
    TIKTOK_SHARE_OF_UNPAID,
    Campaigns,
)
from simulator.generator.channels import FIRST_VISIT_WEIGHTS as FIRST_WEIGHTS
from simulator.generator.common import MICROS_PER_DAY, group_cumsum, position_in_group, rng, scramble
from simulator.generator.generator_config import GeneratorConfig
from simulator.generator.orders import Orders
from simulator.generator.people import People

PRE_SIGNUP_SESSIONS = 0.7  # mean anonymous sessions before signing up
BROWSE_SESSIONS_PER_YEAR = 4.0
TWO_DEVICE_SHARE = 0.15
SECOND_DEVICE_USE = 0.4
LOGGED_IN_BROWSING = 0.7
LATE_EVENT_RATE = 0.01
PAGES = ["/", "/category/apparel", "/category/home", "/product", "/cart", "/search", "/checkout/complete"]
KIND_PRE, KIND_SIGNUP, KIND_PURCHASE, KIND_BROWSE, KIND_ANON = range(5)


@dataclass(frozen=True)
class Sessions:
    """One row per session of the world."""

    person: np.ndarray
    device: np.ndarray
    record: np.ndarray  # customer record logged in as, -1 when anonymous
    start: np.ndarray  # internal days
    channel: np.ndarray
    campaign: np.ndarray  # index into Campaigns (paid), -1 otherwise
    order: np.ndarray  # order row for purchase sessions, -1 otherwise
    gclid: pa.Array  # Google Ads click id (null for other sessions)
    fbclid: pa.Array  # Meta click id
    ttclid: pa.Array  # TikTok click id
    device_person: np.ndarray
    device_pseudo_id: pa.Array


@dataclass(frozen=True)
class Events:
    """One row per event of the world (no event_id yet: raw_contract.ga4_event_id derives it)."""

    table: pa.Table
    session: np.ndarray
    arrival_day: np.ndarray  # day index the event reaches the export


def _sessions(config: GeneratorConfig, people: People, orders: Orders, campaigns: Campaigns, g) -> Sessions:
    world = config.universe_days
    n = people.n_signed
    signup = people.signup_day
    records = people.records

    k_pre = g.poisson(PRE_SIGNUP_SESSIONS, n)
    pre_person = np.repeat(np.arange(n), k_pre)
    pre_start = signup[pre_person] - g.uniform(0.05, 14, len(pre_person))
    keep = pre_start >= 0
    pre_person, pre_start = pre_person[keep], pre_start[keep]

    buy = np.flatnonzero(orders.person >= 0)
    k_browse = g.poisson(BROWSE_SESSIONS_PER_YEAR * (world - signup) / 365)
    browse_person = np.repeat(np.arange(n), k_browse)
    browse_start = g.uniform(signup[browse_person], world)

    first_anon = n + people.n_test
    k_anon = g.integers(1, 3, people.n_anonymous)
    anon_person = first_anon + np.repeat(np.arange(people.n_anonymous), k_anon)
    anon_start = g.uniform(0, world, len(anon_person))

    person = np.concatenate([pre_person, np.arange(n), orders.person[buy], browse_person, anon_person])
    # A purchase session starts a few minutes before its order; its last event is the purchase, at the order time.
    purchase_start = orders.day[buy] - g.uniform(0.002, 0.02, len(buy))
    start = np.maximum(np.concatenate([pre_start, signup - 0.005, purchase_start, browse_start, anon_start]), 0.0)
    kind = np.concatenate(
        [
            np.full(len(pre_person), KIND_PRE),
            np.full(n, KIND_SIGNUP),
            np.full(len(buy), KIND_PURCHASE),
            np.full(len(browse_person), KIND_BROWSE),
            np.full(len(anon_person), KIND_ANON),
        ]
    )
    order = np.concatenate([np.full(len(pre_person) + n, -1), buy, np.full(len(browse_person) + len(anon_person), -1)])
    sort = np.lexsort((kind, start, person))
    person, start, kind, order = person[sort], start[sort], kind[sort], order[sort]
    m = len(person)

    # Devices: the first device of every person, a second for some signed-up people (never used before signup).
    two = g.random(first_anon + people.n_anonymous) < TWO_DEVICE_SHARE
    two[first_anon:] = False
    later = (kind == KIND_PURCHASE) | (kind == KIND_BROWSE)
    second = two[person] & later & (g.random(m) < SECOND_DEVICE_USE)
    devices_per_person = 1 + two.astype(np.int64)
    device_of_person = np.cumsum(devices_per_person) - devices_per_person
    device = device_of_person[person] + second
    n_devices = int(devices_per_person.sum())
    device_person = np.repeat(np.arange(len(two)), devices_per_person)
    first_seen = np.full(n_devices, np.inf)
    np.minimum.at(first_seen, device, start)
    used = np.isfinite(first_seen)
    first_seen_s = (config.start.timestamp() + np.where(used, first_seen, 0) * 86_400).astype(np.int64)
    device_pseudo_id = pa.array(
        np.char.add(
            np.char.add(scramble(np.arange(n_devices), config.world_seed).astype(str), "."), first_seen_s.astype(str)
        )
    )

    # Login: never before signup; always at signup and purchase; mostly while browsing later.
    browsing_login = (kind == KIND_BROWSE) & (g.random(m) < LOGGED_IN_BROWSING)
    logged_in = (kind == KIND_SIGNUP) | (kind == KIND_PURCHASE) | browsing_login
    signed = person < n
    p = np.where(signed, person, 0)
    dup = records.duplicate_of_person[p]
    as_dup = (dup >= 0) & (start >= records.duplicate_since[p]) & (g.random(m) < 0.5)
    record = np.where(as_dup, dup, records.record_of_person[p])
    record = np.where(kind == KIND_PURCHASE, orders.record[np.maximum(order, 0)], record)
    record = np.where(logged_in & signed, record, -1)

    # Channels: the first session of a person is its acquisition channel; later ones the returning mix.
    first_of_person = np.concatenate([[True], person[1:] != person[:-1]])
    acquisition = np.concatenate(
        [
            people.acquisition,
            np.zeros(people.n_test, np.int64),
            g.choice(len(SOURCES), people.n_anonymous, p=FIRST_WEIGHTS),
        ]
    )
    channel = np.where(first_of_person, acquisition[person], g.choice(len(SOURCES), m, p=RETURN_VISIT_WEIGHTS))
    campaign = np.full(m, -1)
    for platform in (GOOGLE, META):
        mask = channel == platform
        campaign[mask] = g.choice(campaigns.of(platform), int(mask.sum()))
    # TikTok: a share of the unpaid visits, from its own stream (so the other channels' draws are untouched).
    t = rng(config.world_seed, 41)
    tiktok = np.isin(channel, (ORGANIC, DIRECT)) & (t.random(m) < TIKTOK_SHARE_OF_UNPAID)
    channel = np.where(tiktok, TIKTOK, channel)
    campaign[tiktok] = t.choice(campaigns.of(TIKTOK), int(tiktok.sum()))
    number = scramble(np.arange(m), config.world_seed + 1).astype(str)
    gclid = pa.array(np.where(channel == GOOGLE, np.char.add("Cj0KCQ", number), None), pa.string())
    fbclid = pa.array(np.where(channel == META, np.char.add("IwAR", number), None), pa.string())
    ttclid = pa.array(np.where(channel == TIKTOK, np.char.add("E.C.P.", number), None), pa.string())
    return Sessions(
        person, device, record, start, channel, campaign, order, gclid, fbclid, ttclid, device_person, device_pseudo_id
    )


def make_web(
    config: GeneratorConfig,
    people: People,
    orders: Orders,
    campaigns: Campaigns,
    customer_ids: pa.Array,
    order_ids: pa.Array,
) -> tuple[Sessions, Events]:
    g = rng(config.world_seed, 4)
    s = _sessions(config, people, orders, campaigns, g)
    m = len(s.person)
    purchase = s.order >= 0

    # Events: session_start + 1..6 page views (+ purchase), 20-90 s apart; a purchase session ends at the order time.
    views = g.integers(1, 7, m)
    per_session = 1 + views + purchase
    session = np.repeat(np.arange(m), per_session)
    position = position_in_group(per_session)
    is_last = position == per_session[session] - 1
    step = g.uniform(20, 90, len(session)) / 86_400
    offset = group_cumsum(step, per_session) - step  # first event at the session start
    duration = offset[np.cumsum(per_session) - 1]
    fit = np.where(purchase, (orders.day[np.maximum(s.order, 0)] - s.start) / duration, 1.0)
    day = s.start[session] + offset * fit[session]
    day[is_last & purchase[session]] = orders.day[s.order[session[is_last & purchase[session]]]]
    event_purchase = is_last & purchase[session]
    name_idx = np.where(position == 0, 0, np.where(event_purchase, 2, 1))
    page_idx = np.where(event_purchase, len(PAGES) - 1, g.integers(0, len(PAGES) - 1, len(session)))
    late = g.random(len(session)) < LATE_EVENT_RATE
    arrival = np.floor(day).astype(np.int64) + np.where(late, g.integers(1, 4, len(session)), 0)

    t0_us = int(config.start.timestamp() * 1_000_000)
    ts = t0_us + np.floor(day * MICROS_PER_DAY).astype(np.int64)
    sort = np.argsort(ts, kind="stable")
    session, ts, name_idx, page_idx, arrival, event_purchase = (
        session[sort],
        ts[sort],
        name_idx[sort],
        page_idx[sort],
        arrival[sort],
        event_purchase[sort],
    )
    sess_idx = pa.array(session)
    record = s.record[session]
    order_row = s.order[session]
    campaign_names = pa.array(campaigns.name + [EMAIL_CAMPAIGN, None], pa.string())
    campaign_idx = np.where(
        s.campaign >= 0, s.campaign, np.where(s.channel == EMAIL, len(campaigns.name), len(campaigns.name) + 1)
    )
    channel = s.channel[session]
    table = pa.table(
        {
            "event_timestamp": ts,
            "event_name": pa.array(["session_start", "page_view", "purchase"]).take(pa.array(name_idx)),
            "user_pseudo_id": s.device_pseudo_id.take(pa.array(s.device[session])),
            "user_id": customer_ids.take(pa.array(record, mask=record < 0)),
            "ga_session_id": (config.start.timestamp() + s.start[session] * 86_400).astype(np.int64),
            "page_location": pa.array(["https://shop.example.com" + p for p in PAGES]).take(pa.array(page_idx)),
            "traffic_source": pa.array(SOURCES).take(pa.array(channel)),
            "traffic_medium": pa.array(MEDIUMS).take(pa.array(channel)),
            "traffic_campaign": campaign_names.take(pa.array(campaign_idx[session])),
            "gclid": s.gclid.take(sess_idx),
            "fbclid": s.fbclid.take(sess_idx),
            "ttclid": s.ttclid.take(sess_idx),
            "transaction_id": order_ids.take(pa.array(order_row, mask=~event_purchase)),
        }
    )
    return s, Events(table=table, session=session, arrival_day=arrival)
