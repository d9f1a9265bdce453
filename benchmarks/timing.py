"""Timing helpers shared by the CLV fit scripts; standard library only, since `lifetimes_fit.py` imports it from the
benchmark's own environment (`.venv-bench`) and `clv_fit.py` from the runtime's."""

from __future__ import annotations

import statistics
import time


class Stopwatch:
    """Seconds between consecutive `lap`s, keyed by the lap's name."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self._last
        self._last = now


def fit_timings(watch: Stopwatch) -> dict[str, float]:
    """A summary + BG/NBD + Gamma-Gamma pass's laps, with the fits' and the whole pass's sums."""
    fit = watch.laps["bgnbd_fit_s"] + watch.laps["gamma_gamma_fit_s"]
    return {**watch.laps, "fit_s": fit, "total_s": watch.laps["summary_s"] + fit}


def medians(runs: list[dict]) -> dict:
    """The first run with every `*_s` field replaced by its median over all runs."""
    return {**runs[0], **{key: statistics.median(run[key] for run in runs) for key in runs[0] if key.endswith("_s")}}
