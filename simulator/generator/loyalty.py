"""The loyalty programme: its rules as importable constants, and the member ledger it produces.

Rules (the dbt models compute tiers from the events with these same constants):
- earn: 1 point per whole USD of an order, credited when it is placed;
- reversal: a refund takes back the points its order earned (at most the balance: it never goes negative). Before,
  points were credited when the 14-day return window closed, so a refunded order never earned and nothing was ever
  reversed;
- redeem: once the balance reaches REDEEM_THRESHOLD, the member redeems as many REDEEM_BLOCK blocks as keep the
  balance at or above REDEEM_BLOCK (each block is worth REDEEM_BLOCK_USD);
- expire: the whole balance expires EXPIRY_DAYS after the member's last earn or redeem;
- tier: by points earned less points reversed in the trailing TIER_WINDOW_DAYS (TIERS thresholds). The balance is
  never negative.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from simulator.generator.orders import Orders

POINTS_PER_USD = 1
EARN_DELAY_DAYS = 0
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


def _balances(member: np.ndarray, change: np.ndarray, run_start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(points redeemed right after each entry, balance after it) for time-sorted entries of signed `change`
    (earn > 0, reversal < 0), grouped by member. Each run of activity starts from 0 (the last one expired). A
    reversal takes back at most the balance; after an earn that lifts the balance to REDEEM_THRESHOLD or more, the
    member redeems as many REDEEM_BLOCKs as keep it at or above REDEEM_BLOCK. One vectorised step per position in
    the members' sequences (the longest sequence's length), not per entry."""
    n = len(member)
    position = np.zeros(n, np.int64)
    if n:
        new_member = np.concatenate([[True], member[1:] != member[:-1]])
        first = np.maximum.accumulate(np.where(new_member, np.arange(n), 0))
        position = np.arange(n) - first
    by_position = np.argsort(position, kind="stable")
    bounds = np.searchsorted(position[by_position], np.arange(position.max(initial=-1) + 2))
    _, member_index = np.unique(member, return_inverse=True)
    balance_of = np.zeros(member_index.max(initial=-1) + 1, np.int64)
    redeemed = np.zeros(n, np.int64)
    balance = np.zeros(n, np.int64)
    for k in range(len(bounds) - 1):
        rows = by_position[bounds[k] : bounds[k + 1]]
        m = member_index[rows]
        before = np.where(run_start[rows], 0, balance_of[m])
        after = before + np.maximum(change[rows], -before)
        blocks = np.where(after >= REDEEM_THRESHOLD, (after - REDEEM_BLOCK) // REDEEM_BLOCK, 0)
        redeemed[rows] = blocks * REDEEM_BLOCK
        balance[rows] = balance_of[m] = after - redeemed[rows]
    return redeemed, balance


def ledger(orders: Orders, world_days: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(record, event_type 0 earn / 1 redeem / 2 expire / 3 reversal, points, order row or -1, day) of every event,
    time-sorted.

    Every order with a point to earn earns when it is placed; a refund reverses the points its order earned (at
    most the balance, which never goes negative). Runs of activity (earns and redemptions less than EXPIRY_DAYS
    apart) end with their balance expiring; a reversal is not activity and stays in its order's run (it follows the
    earn within the refund window).
    """
    points = np.floor(orders.usd * POINTS_PER_USD + 1e-9).astype(np.int64)
    earn_day = orders.day + EARN_DELAY_DAYS
    earns = np.flatnonzero((points > 0) & (earn_day < world_days))
    reversals = earns[orders.refund_day[earns] < world_days]
    entry_order = np.concatenate([earns, reversals])
    entry_day = np.concatenate([earn_day[earns], orders.refund_day[reversals]])
    change = np.concatenate([points[earns], -points[reversals]])
    member = orders.record[entry_order]
    is_earn = np.arange(len(entry_order)) < len(earns)
    sort = np.lexsort((~is_earn, entry_day, member))
    entry_order, entry_day, change, member, is_earn = (
        entry_order[sort],
        entry_day[sort],
        change[sort],
        member[sort],
        is_earn[sort],
    )

    # Runs of activity: a new run starts at a member's first earn or after an earn-to-earn gap longer than the
    # expiry (redemptions follow earns by an hour, so the gap between earns is the gap between activities).
    new_member = np.concatenate([[True], member[1:] != member[:-1]]) if len(member) else np.zeros(0, bool)
    earn_rows = np.flatnonzero(is_earn)
    gap = np.concatenate([[np.inf], np.diff(entry_day[earn_rows])])
    run_start = np.zeros(len(member), bool)
    run_start[earn_rows] = new_member[earn_rows] | (gap > EXPIRY_DAYS)
    redeemed, balance = _balances(member, change, run_start)
    r = np.flatnonzero(redeemed > 0)
    # A redemption follows its earn by REDEEM_LAG_DAYS, or by half the time to the member's next entry when that comes
    # sooner (two orders within the hour), so the ledger stays in time order.
    same_member_next = np.concatenate([member[1:] == member[:-1], [False]])
    next_gap = np.where(same_member_next, np.append(np.diff(entry_day), np.inf), np.inf)
    redeem_lag = np.minimum(REDEEM_LAG_DAYS, next_gap / 2)

    # Expiry at the end of each run: EXPIRY_DAYS after its last earn or redemption, if that is inside the world.
    run_id = np.cumsum(run_start) - 1
    run_end = np.concatenate([run_id[1:] != run_id[:-1], [True]])[: len(member)]
    last_earn = np.maximum.accumulate(np.where(is_earn, np.arange(len(member)), 0))
    e = np.flatnonzero(run_end & (balance > 0))
    last = last_earn[e]
    expire_day = entry_day[last] + np.where(redeemed[last] > 0, redeem_lag[last], 0) + EXPIRY_DAYS
    inside = expire_day < world_days
    e, expire_day = e[inside], expire_day[inside]

    # A reversal's points are the balance drop it caused (its earn came before it, so the row before is the same
    # member's); nothing to record when the balance was already 0.
    v = np.flatnonzero(~is_earn)
    reversed_points = balance[v] - balance[v - 1]
    v, reversed_points = v[reversed_points < 0], reversed_points[reversed_points < 0]

    rec = np.concatenate([member[earn_rows], member[r], member[e], member[v]])
    kind = np.concatenate(
        [
            np.zeros(len(earn_rows), np.int8),
            np.ones(len(r), np.int8),
            np.full(len(e), 2, np.int8),
            np.full(len(v), 3, np.int8),
        ]
    )
    pts = np.concatenate([change[earn_rows], -redeemed[r], -balance[e], reversed_points])
    order_row = np.concatenate([entry_order[earn_rows], entry_order[r], np.full(len(e), -1), entry_order[v]])
    when = np.concatenate([entry_day[earn_rows], entry_day[r] + redeem_lag[r], expire_day, entry_day[v]])
    sort = np.lexsort((kind, rec, when))
    return rec[sort], kind[sort], pts[sort], order_row[sort], when[sort]


EVENT_TYPES = pa.array(["earn", "redeem", "expire", "reversal"])
