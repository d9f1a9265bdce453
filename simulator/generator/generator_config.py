"""What to generate: size presets, the true process parameters, and the simulated time window."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

#: Days simulated beyond the anchor date, so later daily increments come from the same world (see arrival.py).
HORIZON_DAYS = 30
DEFAULT_END_DATE = date(2026, 10, 31)


@dataclass(frozen=True)
class Scale:
    """Size of a generated dataset: signups and anonymous visitors over `days` of history. A scale of `shards` > 1
    is generated as that many independent worlds, one after another (simulator/generator/shards.py), each with its
    share of the people: the generator's memory is one shard's, whatever the scale."""

    customers: int
    days: int
    anonymous_visitors: int
    shards: int = 1

    def share(self) -> Scale:
        """The size of one shard."""
        return Scale(self.customers // self.shards, self.days, self.anonymous_visitors // self.shards)


SCALES: dict[str, Scale] = {
    "XS": Scale(customers=1_000, days=120, anonymous_visitors=1_000),
    "S": Scale(customers=10_000, days=365, anonymous_visitors=10_000),
    "M": Scale(customers=100_000, days=730, anonymous_visitors=100_000),
    "L": Scale(customers=1_000_000, days=730, anonymous_visitors=1_000_000, shards=10),
}


@dataclass(frozen=True)
class TrueParameters:
    """Parameters of the processes the generator draws from (ground truth for the CLV models).

    BG/NBD: purchase rate lambda ~ Gamma(shape=r, rate=alpha) per day; dropout after each purchase p ~ Beta(a, b).
    Gamma-Gamma: per-customer spend scale nu ~ Gamma(shape=q, rate=gamma); order value z ~ Gamma(shape=p, rate=nu).
    """

    r: float = 0.9
    alpha: float = 60.0
    a: float = 0.8
    b: float = 4.0
    p: float = 6.0
    q: float = 4.0
    gamma: float = 40.0
    share_of_signups_who_buy: float = 0.7
    refund_rate: float = 0.03


@dataclass(frozen=True)
class GeneratorConfig:
    """`end_date` is the last day whose deliveries the dataset holds. The simulated world spans `size.days` up to
    `anchor_date` (default: end_date) plus HORIZON_DAYS after it, so `replace(config, end_date=end_date + k,
    anchor_date=end_date)` is the same world k days later: the default dataset plus increments 1..k."""

    scale: str = "S"
    seed: int = 7
    end_date: date = DEFAULT_END_DATE
    truth: TrueParameters = TrueParameters()
    anchor_date: date | None = None
    shard: int | None = None  # one world of a sharded scale (0..shards-1): its share of the people, its own draws

    def __post_init__(self) -> None:
        self.size  # noqa: B018 (validates the scale name early)
        lag = (self.end_date - self.anchor).days
        if not 0 <= lag < HORIZON_DAYS:
            raise ValueError(f"end_date {self.end_date} must be within {HORIZON_DAYS - 1} days after {self.anchor}")

    @property
    def size(self) -> Scale:
        """The size of this world: the scale's, or one shard's share of it."""
        try:
            scale = SCALES[self.scale]
        except KeyError:
            raise ValueError(f"unknown scale {self.scale!r}; choose one of {', '.join(SCALES)}") from None
        return scale if self.shard is None else scale.share()

    @property
    def world_seed(self) -> int:
        """The seed of this world's random streams: the seed, or one derived per shard (the product catalogue, shared
        by every shard, draws from `seed` itself)."""
        return self.seed if self.shard is None else self.seed * 1_000 + 101 + self.shard

    def shard_configs(self) -> list[GeneratorConfig]:
        """The worlds this config is generated as: itself, or one per shard of a sharded scale."""
        shards = SCALES[self.scale].shards
        return [self] if shards == 1 else [replace(self, shard=k) for k in range(shards)]

    @property
    def anchor(self) -> date:
        return self.anchor_date or self.end_date

    @property
    def start(self) -> datetime:
        """Midnight UTC of the first simulated day (day 0 of every internal time)."""
        first = self.anchor - timedelta(days=self.size.days - 1)
        return datetime.combine(first, datetime.min.time(), UTC)

    @property
    def end(self) -> datetime:
        """Exclusive end of the delivered window (midnight UTC after end_date)."""
        return datetime.combine(self.end_date + timedelta(days=1), datetime.min.time(), UTC)

    @property
    def universe_days(self) -> int:
        return self.size.days + HORIZON_DAYS

    @property
    def cutoff_day(self) -> int:
        """Internal day index of the first day NOT delivered by the default dataset."""
        return (self.end_date - self.start.date()).days + 1

    def increment_day(self, increment: int) -> int:
        if not 1 <= increment <= self.universe_days - self.cutoff_day:
            raise ValueError(
                f"increment {increment} is outside the simulated world: 1..{self.universe_days - self.cutoff_day}"
            )
        return self.cutoff_day + increment - 1
