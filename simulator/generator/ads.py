"""Daily campaign reports of Google Ads, Meta Ads and TikTok Ads, consistent with the paid sessions the web export
shows.

Clicks on a campaign-day are the paid sessions it brought plus clicks that never became a session (bounces before
the tag fired); conversions are the orders of those sessions. Platforms restate: a day's report is delivered the
next day and corrected on each of the RESTATED_DAYS days after it (late conversions, invalid-click removal), the
last delivery being final. A report's day is the ad account's local day (ACCOUNTS: New York, Dublin, London, each
with its daylight-saving rules): a click counts on the calendar date its session started in the account's time zone,
so a Google Ads day runs 05:00-05:00 UTC in winter, 04:00-04:00 in summer. Before, days were UTC days with a time
zone label, and the warehouse's mapping of account days to reporting dates was never exercised.

Each group of platforms draws from its own random stream (STREAMS): TikTok Ads, added later, has its own, so
adding it left the Google Ads and Meta Ads reports of a seed exactly as they were.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from orchestration.extract.ad_platforms import ad_platform
from simulator.generator.channels import GOOGLE, META, PLATFORMS, TIKTOK, Campaigns
from simulator.generator.common import Versioned, rng
from simulator.generator.generator_config import GeneratorConfig
from simulator.generator.web import Sessions

RESTATED_DAYS = 2
#: Share of the final clicks / conversions each delivery shows (delivery 1 = the day after; last = final).
CLICK_COMPLETENESS = (1.03, 1.01, 1.0)  # invalid clicks are removed on restatement
CONVERSION_COMPLETENESS = (0.8, 0.95, 1.0)  # conversions are attributed late
NO_SESSION_CLICK_RATE = 0.1
#: Mean cost per click in the account currency (Google USD, Meta EUR, TikTok GBP), before the campaign's factor. Set
#: so that last-touch ROAS lands in a retailer's usual band (platforms about 2.4-3.1 on XS, 4.8-6.3 on S; it was
#: 10-13 and 18-19) instead of a click costing a tenth of the revenue it brings.
CPC = {GOOGLE: 3.5, META: 2.3, TIKTOK: 1.7}
#: Campaigns differ in what a click costs (bids, audiences, placements): each campaign's CPC is the platform's times
#: a factor drawn uniformly from this range, so ROAS varies by campaign as well as by platform.
CAMPAIGN_CPC_FACTOR = (0.8, 1.8)
#: The simulated ad accounts: (account id, currency, time zone) per platform channel.
ACCOUNTS = {
    GOOGLE: ("123-456-7890", "USD", "America/New_York"),
    META: ("act_998877", "EUR", "Europe/Dublin"),
    TIKTOK: ("7301234567890123456", "GBP", "Europe/London"),
}
#: Random stream per group of platforms (the channels whose campaigns draw together).
STREAMS = ((5, (GOOGLE, META)), (51, (TIKTOK,)))


@dataclass(frozen=True)
class _Versions:
    """Every delivered version of every campaign-day of a group of campaigns."""

    campaign: np.ndarray  # campaign index (into Campaigns) per version row
    key: np.ndarray  # campaign * universe_days + day
    arrival: np.ndarray
    dates: pa.Array
    impressions: np.ndarray
    clicks: np.ndarray
    cost: np.ndarray
    conversions: np.ndarray

    def rows_of(self, campaigns: Campaigns, platform: int) -> np.ndarray:
        return np.flatnonzero(campaigns.platform[self.campaign] == platform)


def account_day(config: GeneratorConfig, start: np.ndarray, timezone: str) -> np.ndarray:
    """Internal day index of the account-local calendar date of each instant (`start` in internal days, from
    midnight UTC of config.start): floor(start) in UTC, one less for early-morning UTC in New York, ..."""
    utc = pd.DatetimeIndex(pd.Timestamp(config.start) + pd.to_timedelta(start, unit="D"))
    local_date = utc.tz_convert(timezone).tz_localize(None).normalize()
    return ((local_date - pd.Timestamp(config.start.date())) // pd.Timedelta(days=1)).to_numpy(np.int64)


def _session_account_day(config: GeneratorConfig, sessions: Sessions, campaigns: Campaigns) -> np.ndarray:
    """Per session, the day of its start in the time zone of the ad account its campaign belongs to (UTC day for
    sessions without a campaign)."""
    day = np.floor(sessions.start).astype(np.int64)
    platform = np.where(sessions.campaign >= 0, campaigns.platform[np.maximum(sessions.campaign, 0)], -1)
    for channel, (_, _, timezone) in ACCOUNTS.items():
        rows = np.flatnonzero(platform == channel)
        day[rows] = account_day(config, sessions.start[rows], timezone)
    return day


def _versions(config: GeneratorConfig, sessions: Sessions, campaigns: Campaigns, chosen: np.ndarray, g) -> _Versions:
    world = config.universe_days
    n_campaigns = len(chosen)
    local = np.full(len(campaigns.campaign_id) + 1, -1)
    local[chosen] = np.arange(n_campaigns)
    day = _session_account_day(config, sessions, campaigns)
    paid = (local[sessions.campaign] >= 0) & (sessions.campaign >= 0) & (day >= 0) & (day < world)
    cell = local[sessions.campaign[paid]] * world + day[paid]
    sessions_per_cell = np.bincount(cell, minlength=n_campaigns * world)
    orders_per_cell = np.bincount(cell, weights=sessions.order[paid] >= 0, minlength=n_campaigns * world)
    clicks = (
        sessions_per_cell + g.binomial(sessions_per_cell, NO_SESSION_CLICK_RATE) + g.poisson(0.5, n_campaigns * world)
    )
    ctr = g.uniform(0.01, 0.04, n_campaigns)[np.arange(n_campaigns * world) // world]
    impressions = np.round(clicks / ctr).astype(np.int64) + g.poisson(50, n_campaigns * world)
    cpc_of = np.vectorize(CPC.get)(campaigns.platform[chosen]).astype(np.float64)
    cpc = cpc_of[np.arange(n_campaigns * world) // world]
    cost_per_click = g.gamma(4.0, cpc / 4.0)
    campaign_factor = g.uniform(*CAMPAIGN_CPC_FACTOR, n_campaigns)  # drawn last: earlier draws stay as they were
    cost = np.round(clicks * cost_per_click * campaign_factor[np.arange(n_campaigns * world) // world], 2)
    conversions = orders_per_cell.astype(np.int64)

    # Versions: delivery v on day + 1 + v (v = 0..RESTATED_DAYS).
    versions = RESTATED_DAYS + 1
    cell_v = np.repeat(np.arange(n_campaigns * world), versions)
    v = np.tile(np.arange(versions), n_campaigns * world)
    cell_day = cell_v % world
    clicks_v = np.round(clicks[cell_v] * np.array(CLICK_COMPLETENESS)[v]).astype(np.int64)
    camp = chosen[cell_v // world]
    return _Versions(
        campaign=camp,
        key=camp * world + cell_day,
        arrival=cell_day + 1 + v,
        dates=pa.array((np.datetime64(config.start.date()) + cell_day).astype("datetime64[D]")),
        impressions=np.maximum(impressions[cell_v], clicks_v),
        clicks=clicks_v,
        cost=np.round(cost[cell_v] * np.array(CLICK_COMPLETENESS)[v], 2),
        conversions=np.floor(conversions[cell_v] * np.array(CONVERSION_COMPLETENESS)[v]).astype(np.int64),
    )


def _report(version: _Versions, rows: np.ndarray, campaigns: Campaigns, channel: int) -> pa.Table:
    """The platform's report in its raw contract shape, from its declaration's column roles."""
    platform = ad_platform(PLATFORMS[channel])
    account, currency, timezone = ACCOUNTS[channel]
    camp = pa.array(version.campaign[rows])
    spend = version.cost[rows]
    if platform.spend_unit == "micros":
        spend = np.round(spend * 1_000_000).astype(np.int64)
    values = {
        platform.date_column: version.dates.take(pa.array(rows)),
        platform.account_column: np.full(len(rows), account),
        platform.currency_column: np.full(len(rows), currency),
        platform.timezone_column: np.full(len(rows), timezone),
        platform.campaign_column: pa.array(campaigns.campaign_id).take(camp),
        platform.campaign_name_column: pa.array(campaigns.name).take(camp),
        platform.impressions_column: version.impressions[rows],
        platform.clicks_column: version.clicks[rows],
        platform.spend_column: spend,
        platform.conversions_column: version.conversions[rows],
    }
    return pa.table({name: pa.array(values[name]).cast(type_) for name, type_, _ in platform.columns})


def make_ads(config: GeneratorConfig, sessions: Sessions, campaigns: Campaigns) -> dict[str, Versioned]:
    """Raw table name -> every version of the platform's report rows (key: campaign-day; arrival: delivery day)."""
    reports = {}
    for stream, channels in STREAMS:
        chosen = np.flatnonzero(np.isin(campaigns.platform, channels))
        version = _versions(config, sessions, campaigns, chosen, rng(config.world_seed, stream))
        for channel in channels:
            rows = version.rows_of(campaigns, channel)
            table = _report(version, rows, campaigns, channel)
            reports[ad_platform(PLATFORMS[channel]).raw_table] = Versioned(
                table, version.key[rows], version.arrival[rows].astype(float)
            )
    return reports
