"""The loyalty programme: its rules as importable constants, and the member ledger it produces.

Rules (the dbt models compute tiers from the events with these same constants):
- earn: 1 point per whole USD of a completed order, credited when the return window closes (orders refunded within
  it earn nothing);
- redeem: once the balance reaches REDEEM_THRESHOLD, the member redeems as many REDEEM_BLOCK blocks as keep the
  balance at or above REDEEM_BLOCK (each block is worth REDEEM_BLOCK_USD);
- expire: the whole balance expires EXPIRY_DAYS after the member's last earn or redeem;
- tier: by points earned in the trailing TIER_WINDOW_DAYS (TIERS thresholds). The balance is never negative.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from simulator.generator.common import group_cumsum, run_lengths
from simulator.generator.orders import REFUND_WINDOW_DAYS, Orders

POINTS_PER_USD = 1
EARN_DELAY_DAYS = REFUND_WINDOW_DAYS
REDEEM_THRESHOLD = 1_000
REDEEM_BLOCK = 500
REDEEM_BLOCK_USD = 5
EXPIRY_DAYS = 365
TIER_WINDOW_DAYS = 365
TIERS = {"Bronze": 0, "Silver": 500, "Gold": 1_500, "Platinum": 4_000}
REDEEM_LAG_DAYS = 1 / 24  # a redemption follows the earn that enabled it by an hour (less if the next earn is sooner)


def programme() -> dict[str, object]:
    """The constants as written to parameters.json."""
    return {
        "points_per_usd": POINTS_PER_USD,
        "earn_delay_days": EARN_DELAY_DAYS,
        "redeem_threshold": REDEEM_THRESHOLD,
        "redeem_block_points": REDEEM_BLOCK,
        "redeem_block_usd": REDEEM_BLOCK_USD,
        "expiry_days_after_last_activity": EXPIRY_DAYS,
        "tier_window_days": TIER_WINDOW_DAYS,
        "tiers": TIERS,
    }


def tier_of(points_earned_in_window: np.ndarray) -> np.ndarray:
    names = list(TIERS)
    return np.array(names)[np.searchsorted(np.array(list(TIERS.values())), points_earned_in_window, side="right") - 1]


def ledger(orders: Orders, world_days: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(record, event_type 0 earn / 1 redeem / 2 expire, points, order row or -1, day) of every event, time-sorted.

    Balance within a run of activity (gaps <= EXPIRY_DAYS) in closed form: with S the cumulative points earned,
    the balance is S while S < REDEEM_THRESHOLD, then REDEEM_BLOCK + (S mod REDEEM_BLOCK) for ever after (redeeming
    never changes the balance modulo a block, and keeps it in [REDEEM_BLOCK, REDEEM_THRESHOLD)).
    """
    earns = np.flatnonzero(~orders.refunded)
    points = np.floor(orders.usd[earns] * POINTS_PER_USD + 1e-9).astype(np.int64)
    day = orders.day[earns] + EARN_DELAY_DAYS
    keep = (points > 0) & (day < world_days)
    earns, points, day = earns[keep], points[keep], day[keep]
    member = orders.record[earns]
    sort = np.lexsort((day, member))
    earns, points, day, member = earns[sort], points[sort], day[sort], member[sort]

    # Runs of activity: a new run starts at a member's first earn or after a gap longer than the expiry.
    new_member = np.concatenate([[True], member[1:] != member[:-1]])
    gap = np.concatenate([[np.inf], np.diff(day)])
    run_start = new_member | (gap > EXPIRY_DAYS)
    run_id = np.cumsum(run_start) - 1
    _, run_len = run_lengths(run_id)
    earned = group_cumsum(points.astype(np.float64), run_len).astype(np.int64)
    balance = np.where(earned < REDEEM_THRESHOLD, earned, REDEEM_BLOCK + earned % REDEEM_BLOCK)
    before = np.where(run_start, 0, np.concatenate([[0], balance[:-1]]))
    redeemed = before + points - balance  # a multiple of REDEEM_BLOCK
    r = np.flatnonzero(redeemed > 0)
    # A redemption follows its earn by REDEEM_LAG_DAYS, or by half the time to the member's next earn when that comes
    # sooner (two orders within the hour), so the ledger stays in time order.
    next_gap = np.where(np.concatenate([member[1:] == member[:-1], [False]]), np.append(np.diff(day), np.inf), np.inf)
    redeem_lag = np.minimum(REDEEM_LAG_DAYS, next_gap / 2)

    # Expiry at the end of each run: EXPIRY_DAYS after its last activity, if that is inside the world.
    run_end = np.concatenate([run_start[1:], [True]])
    e = np.flatnonzero(run_end & (balance > 0))
    last_activity = day[e] + np.where(redeemed[e] > 0, redeem_lag[e], 0)
    expire_day = last_activity + EXPIRY_DAYS
    inside = expire_day < world_days
    e, expire_day = e[inside], expire_day[inside]

    rec = np.concatenate([member, member[r], member[e]])
    kind = np.concatenate([np.zeros(len(day), np.int8), np.ones(len(r), np.int8), np.full(len(e), 2, np.int8)])
    pts = np.concatenate([points, -redeemed[r], -balance[e]])
    order_row = np.concatenate([earns, earns[r], np.full(len(e), -1)])
    when = np.concatenate([day, day[r] + redeem_lag[r], expire_day])
    sort = np.lexsort((kind, rec, when))
    return rec[sort], kind[sort], pts[sort], order_row[sort], when[sort]


EVENT_TYPES = pa.array(["earn", "redeem", "expire"])
