"""Customer-service data: support tickets (a row per status change), NPS survey answers, marketing consents.

Tickets follow orders (delivery, returns, product questions): created, first answered (status pending), solved
(with a CSAT rating 1-5 for some). Each status change re-delivers the ticket. NPS answers come from post-purchase
and relationship surveys. Consent is an event log per customer record and consent channel (email and SMS marketing,
ad personalisation, i.e. the CCPA "do not sell or share" opt-out when withdrawn, and profiling): granted at signup
for some, later withdrawn and sometimes granted again. A record without events never granted anything.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from simulator.generator.common import Versioned, group_cumsum, rng, seconds
from simulator.generator.generator_config import GeneratorConfig
from simulator.generator.orders import Orders
from simulator.generator.people import People

TICKET_RATE = 0.06  # tickets per completed order
TICKET_RATE_REFUNDED = 0.5
TICKET_CHANNELS = ["email", "chat", "phone"]
FIRST_RESPONSE_HOURS = (8.0, 0.2, 0.05)  # mean wait per channel
TICKET_CATEGORIES = ["delivery", "return", "product", "billing", "account"]
PRIORITIES = ["low", "normal", "high", "urgent"]
UNSOLVED_SHARE = 0.05
CSAT_RATED_SHARE = 0.6
CSAT_WEIGHTS = np.array([0.08, 0.07, 0.15, 0.30, 0.40])  # scores 1..5
NPS_POST_PURCHASE_RATE = 0.15  # of orders
NPS_RELATIONSHIP_RATE = 0.10  # of customers, 90 days after signup
NPS_WEIGHTS = np.array([2, 1, 1, 2, 2, 4, 6, 10, 18, 24, 30], dtype=float)  # scores 0..10
# Consent channels in the order of the chains below; email opt-in at signup is the person's own (People.email_optin).
CONSENT_CHANNELS = ["email", "sms", "ad_personalisation", "profiling"]
OPTIN_AT_SIGNUP = {"sms": 0.2, "ad_personalisation": 0.6, "profiling": 0.7}  # cookie/consent banner at signup
LATER_OPTIN = 0.15
TOGGLE_PROBABILITY = 0.3
CONSENT_SOURCES = ["signup", "preference_centre", "unsubscribe_link", "do_not_sell_link"]
# Where a withdrawal is made, per channel: marketing via the message's unsubscribe link, sale/share via the site's
# "Do Not Sell or Share My Personal Information" link (CCPA), profiling via the preference centre (GDPR objection).
WITHDRAWAL_SOURCE = np.array([2, 2, 3, 1])


def tickets(config: GeneratorConfig, orders: Orders, customer_ids: pa.Array, t0_us: int) -> Versioned:
    g = rng(config.world_seed, 6)
    rate = np.where(orders.refunded, TICKET_RATE_REFUNDED, TICKET_RATE)
    source = np.flatnonzero((g.random(len(rate)) < rate) & (orders.person >= 0))
    created = orders.day[source] + g.uniform(0.5, 10, len(source))
    keep = created < config.universe_days
    source, created = source[keep], created[keep]
    sort = np.argsort(created, kind="stable")
    source, created = source[sort], created[sort]
    n = len(source)
    channel = g.choice(len(TICKET_CHANNELS), n, p=[0.5, 0.35, 0.15])
    first_response = created + g.exponential(np.array(FIRST_RESPONSE_HOURS)[channel]) / 24
    solved = g.random(n) >= UNSOLVED_SHARE
    resolved = np.where(solved, first_response + g.exponential(1.5, n), np.inf)
    category = np.where(orders.refunded[source], 1, g.choice([0, 2, 3, 4], n))
    rated = solved & (g.random(n) < CSAT_RATED_SHARE)
    csat = g.choice(np.arange(1, 6), n, p=CSAT_WEIGHTS)

    # Versions: 0 open (at creation), 1 pending (first response), 2 solved (resolution).
    versions = 3
    ticket = np.repeat(np.arange(n), versions)
    v = np.tile(np.arange(versions), n)
    at = np.stack([created, first_response, resolved], axis=1).ravel()
    exists = np.isfinite(at)
    ticket, v, at = ticket[exists], v[exists], at[exists]
    fr = np.where(v >= 1, first_response[ticket], np.nan)
    rs = np.where(v == 2, resolved[ticket], np.nan)
    ticket_ids = np.char.add("T", np.char.zfill(np.arange(1, n + 1).astype(str), 7))
    table = pa.table(
        {
            "ticket_id": pa.array(ticket_ids).take(pa.array(ticket)),
            "customer_id": customer_ids.take(pa.array(orders.record[source][ticket])),
            "created_at": seconds(t0_us, created[ticket]),
            "first_response_at": seconds(t0_us, fr, mask=np.isnan(fr)),
            "resolved_at": seconds(t0_us, rs, mask=np.isnan(rs)),
            "channel": pa.array(TICKET_CHANNELS).take(pa.array(channel[ticket])),
            "category": pa.array(TICKET_CATEGORIES).take(pa.array(category[ticket])),
            "priority": pa.array(PRIORITIES).take(pa.array(g.choice(4, n, p=[0.3, 0.5, 0.15, 0.05])[ticket])),
            "status": pa.array(["open", "pending", "solved"]).take(pa.array(v)),
            "csat_score": pa.array(csat[ticket], mask=~((v == 2) & rated[ticket])),
            "updated_at": seconds(t0_us, at),
        }
    )
    return Versioned(table, ticket, at)


def nps(config: GeneratorConfig, people: People, orders: Orders, customer_ids: pa.Array, t0_us: int) -> Versioned:
    g = rng(config.world_seed, 7)
    post = np.flatnonzero((g.random(len(orders.day)) < NPS_POST_PURCHASE_RATE) & (orders.person >= 0))
    post_day = orders.day[post] + g.uniform(7, 21, len(post))
    rel = np.flatnonzero(g.random(people.n_signed) < NPS_RELATIONSHIP_RATE)
    rel_day = people.signup_day[rel] + 90 + g.uniform(0, 7, len(rel))
    record = np.concatenate([orders.record[post], people.records.record_of_person[rel]])
    day = np.concatenate([post_day, rel_day])
    survey = np.concatenate([np.zeros(len(post), np.int64), np.ones(len(rel), np.int64)])
    keep = day < config.universe_days
    record, day, survey = record[keep], day[keep], survey[keep]
    sort = np.argsort(day, kind="stable")
    record, day, survey = record[sort], day[sort], survey[sort]
    n = len(day)
    table = pa.table(
        {
            "response_id": np.char.add("NPS", np.char.zfill(np.arange(1, n + 1).astype(str), 7)),
            "customer_id": customer_ids.take(pa.array(record)),
            "responded_at": seconds(t0_us, day),
            "score": g.choice(np.arange(11), n, p=NPS_WEIGHTS / NPS_WEIGHTS.sum()),
            "survey": pa.array(["post_purchase", "relationship"]).take(pa.array(survey)),
            "updated_at": seconds(t0_us, day),
        }
    )
    return Versioned(table, np.arange(n), day)


def consents(config: GeneratorConfig, people: People, customer_ids: pa.Array, t0_us: int) -> Versioned:
    """Per customer record and consent channel an alternating granted/withdrawn chain of up to 4 events."""
    g = rng(config.world_seed, 8)
    records = people.records
    real = np.flatnonzero(records.kind < 2)
    person = records.person[real]
    m, c = len(real), len(CONSENT_CHANNELS)
    chain_record = np.tile(real, c)
    chain_channel = np.repeat(np.arange(c), m)
    at_signup = np.concatenate(
        [people.email_optin[person] & (records.kind[real] == 0)]
        + [g.random(m) < OPTIN_AT_SIGNUP[name] for name in CONSENT_CHANNELS[1:]]
    )
    signup = records.signup_day[chain_record]
    first = np.where(at_signup, signup, signup + g.exponential(120, c * m))
    starts = at_signup | (g.random(c * m) < LATER_OPTIN)
    # Up to 3 later toggles, each with TOGGLE_PROBABILITY, as long as the previous one happened.
    toggles = np.minimum(g.geometric(1 - TOGGLE_PROBABILITY, c * m) - 1, 3)
    length = np.where(starts, 1 + toggles, 0)
    chain = np.repeat(np.arange(c * m), length)
    k = np.arange(len(chain)) - np.repeat(np.cumsum(length) - length, length)
    gaps = np.where(k == 0, 0.0, g.exponential(200, len(chain)))
    day = first[chain] + group_cumsum(gaps, length)
    status = k % 2  # 0 granted, 1 withdrawn
    source = np.where((k == 0) & at_signup[chain], 0, np.where(status == 1, WITHDRAWAL_SOURCE[chain_channel[chain]], 1))
    keep = day < config.universe_days
    chain, day, status, source = chain[keep], day[keep], status[keep], source[keep]
    sort = np.lexsort((chain, day))
    chain, day, status, source = chain[sort], day[sort], status[sort], source[sort]
    n = len(day)
    table = pa.table(
        {
            "consent_event_id": np.char.add("CE", np.char.zfill(np.arange(1, n + 1).astype(str), 8)),
            "customer_id": customer_ids.take(pa.array(chain_record[chain])),
            "channel": pa.array(CONSENT_CHANNELS).take(pa.array(chain_channel[chain])),
            "status": pa.array(["granted", "withdrawn"]).take(pa.array(status)),
            "changed_at": seconds(t0_us, day),
            "source": pa.array(CONSENT_SOURCES).take(pa.array(source)),
            "updated_at": seconds(t0_us, day),
        }
    )
    return Versioned(table, np.arange(n), day)
