"""Small vectorised helpers every table module shares: random streams, ids, times, per-group arithmetic."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

SECONDS_PER_DAY = 86_400
MICROS_PER_DAY = SECONDS_PER_DAY * 1_000_000
TIMESTAMP = pa.timestamp("us", tz="UTC")


def rng(seed: int, stream: int) -> np.random.Generator:
    """One independent stream per table, so changing one table's draws leaves the others unchanged."""
    return np.random.default_rng([seed, stream])


def ids(prefix: str, n: int, width: int = 7) -> pa.Array:
    """prefix + zero-padded 1..n, as an Arrow string array."""
    return pa.array(np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width)))


def seconds(t0_us: int, days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Internal float days -> UTC timestamps truncated to the second (CRM systems store seconds); `mask` = null."""
    safe = np.where(np.isfinite(days), days, 0.0)
    return pa.array(t0_us + np.floor(safe * SECONDS_PER_DAY).astype(np.int64) * 1_000_000, TIMESTAMP, mask=mask)


def micros(t0_us: int, days: np.ndarray) -> np.ndarray:
    return t0_us + np.floor(days * MICROS_PER_DAY).astype(np.int64)


def group_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at every group boundary (groups are consecutive runs of `counts` rows)."""
    total = np.cumsum(values)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    nonempty = counts > 0
    base = np.repeat(total[starts[nonempty]] - values[starts[nonempty]], counts[nonempty])
    return total - base


def position_in_group(counts: np.ndarray) -> np.ndarray:
    """0, 1, ... within each consecutive group of `counts` rows."""
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return np.arange(int(counts.sum())) - np.repeat(starts, counts)


def run_lengths(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start index, length) of each run of equal values in a sorted array."""
    if len(sorted_keys) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.flatnonzero(np.concatenate([[True], sorted_keys[1:] != sorted_keys[:-1]]))
    return starts, np.diff(np.concatenate([starts, [len(sorted_keys)]]))


def take(values: list[str] | np.ndarray, index: np.ndarray) -> pa.Array:
    """Strings by index from a small dictionary, without materialising a NumPy unicode array of the result."""
    return pa.array(np.asarray(values).astype(object) if not isinstance(values, list) else values).take(
        pa.array(index.astype(np.int64))
    )


def scramble(index: np.ndarray, salt: int) -> np.ndarray:
    """A bijection of 0..2**40-1 (odd multiplier, xor salt): unique, random-looking numbers for click ids."""
    mask = np.uint64((1 << 40) - 1)
    x = (index.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15 & ((1 << 40) - 1) | 1)) & mask
    return (x ^ np.uint64(salt & ((1 << 40) - 1))) & mask


@dataclass(frozen=True)
class Versioned:
    """A table with one row per delivered version: `key` groups the versions of one row (later row = later
    version) and `arrival` is when each version reaches the export (internal days)."""

    table: pa.Table
    key: np.ndarray
    arrival: np.ndarray

    def delivered(self, first_day: float, end_day: int) -> np.ndarray:
        """Rows of the versions arriving on days [first_day, end_day), the latest per key: what one delivery (or
        all deliveries merged, later wins) holds, in key order."""
        day = np.floor(self.arrival)
        rows = np.flatnonzero((day >= first_day) & (day < end_day))
        rows = rows[np.lexsort((self.arrival[rows], self.key[rows]))]  # stable: ties keep the later row last
        keys = self.key[rows]
        last = np.concatenate([keys[1:] != keys[:-1], [True]]) if len(rows) else np.zeros(0, bool)
        return rows[last]
