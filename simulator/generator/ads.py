"""Daily campaign reports of Google Ads and Meta Ads, consistent with the paid sessions the web export shows.

Clicks on a campaign-day are the paid sessions it brought plus clicks that never became a session (bounces before
the tag fired); conversions are the orders of those sessions. Platforms restate: a day's report is delivered the
next day and corrected on each of the RESTATED_DAYS days after it (late conversions, invalid-click removal), the
last delivery being final. Days are UTC days here (account time zones are reported but not simulated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from simulator.generator.channels import GOOGLE, META, Campaigns
from simulator.generator.common import rng
from simulator.generator.generator_config import GeneratorConfig
from simulator.generator.web import Sessions

RESTATED_DAYS = 2
#: Share of the final clicks / conversions each delivery shows (delivery 1 = the day after; last = final).
CLICK_COMPLETENESS = (1.03, 1.01, 1.0)  # invalid clicks are removed on restatement
CONVERSION_COMPLETENESS = (0.8, 0.95, 1.0)  # conversions are attributed late
NO_SESSION_CLICK_RATE = 0.1


@dataclass(frozen=True)
class AdReports:
    google: pa.Table
    meta: pa.Table
    google_key: np.ndarray  # campaign-day key per row (for latest-version selection)
    meta_key: np.ndarray
    google_arrival: np.ndarray  # day index each row (version) is delivered
    meta_arrival: np.ndarray


def make_ads(config: GeneratorConfig, sessions: Sessions, campaigns: Campaigns) -> AdReports:
    g = rng(config.seed, 5)
    world = config.universe_days
    n_campaigns = len(campaigns.campaign_id)
    day = np.floor(sessions.start).astype(np.int64)
    paid = (sessions.campaign >= 0) & (day < world)
    cell = sessions.campaign[paid] * world + day[paid]
    sessions_per_cell = np.bincount(cell, minlength=n_campaigns * world)
    orders_per_cell = np.bincount(cell, weights=sessions.order[paid] >= 0, minlength=n_campaigns * world)
    clicks = (
        sessions_per_cell + g.binomial(sessions_per_cell, NO_SESSION_CLICK_RATE) + g.poisson(0.5, n_campaigns * world)
    )
    ctr = g.uniform(0.01, 0.04, n_campaigns)[np.arange(n_campaigns * world) // world]
    impressions = np.round(clicks / ctr).astype(np.int64) + g.poisson(50, n_campaigns * world)
    cpc = np.where(campaigns.platform[np.arange(n_campaigns * world) // world] == GOOGLE, 0.9, 0.7)
    cost = np.round(clicks * g.gamma(4.0, cpc / 4.0), 2)
    conversions = orders_per_cell.astype(np.int64)

    # Versions: delivery v on day + 1 + v (v = 0..RESTATED_DAYS).
    versions = RESTATED_DAYS + 1
    cell_v = np.repeat(np.arange(n_campaigns * world), versions)
    v = np.tile(np.arange(versions), n_campaigns * world)
    cell_day = cell_v % world
    arrival = cell_day + 1 + v
    clicks_v = np.round(clicks[cell_v] * np.array(CLICK_COMPLETENESS)[v]).astype(np.int64)
    conv_v = np.floor(conversions[cell_v] * np.array(CONVERSION_COMPLETENESS)[v]).astype(np.int64)
    cost_v = np.round(cost[cell_v] * np.array(CLICK_COMPLETENESS)[v], 2)
    imp_v = np.maximum(impressions[cell_v], clicks_v)
    camp = cell_v // world
    dates = pa.array((np.datetime64(config.start.date()) + cell_day).astype("datetime64[D]"))

    def report(platform: int) -> tuple[np.ndarray, pa.Array, pa.Array]:
        rows = np.flatnonzero(campaigns.platform[camp] == platform)
        ids = pa.array(campaigns.campaign_id).take(pa.array(camp[rows]))
        names = pa.array(campaigns.name).take(pa.array(camp[rows]))
        return rows, ids, names

    rows, ids, names = report(GOOGLE)
    google = pa.table(
        {
            "segments_date": dates.take(pa.array(rows)),
            "customer_id": pa.array(np.full(len(rows), "123-456-7890")),
            "customer_currency_code": pa.array(np.full(len(rows), "USD")),
            "customer_time_zone": pa.array(np.full(len(rows), "America/New_York")),
            "campaign_id": ids,
            "campaign_name": names,
            "metrics_impressions": imp_v[rows],
            "metrics_clicks": clicks_v[rows],
            "metrics_cost_micros": np.round(cost_v[rows] * 1_000_000).astype(np.int64),
            "metrics_conversions": conv_v[rows].astype(np.float64),
        }
    )
    g_rows = rows
    rows, ids, names = report(META)
    meta = pa.table(
        {
            "date_start": dates.take(pa.array(rows)),
            "account_id": pa.array(np.full(len(rows), "act_998877")),
            "account_currency": pa.array(np.full(len(rows), "EUR")),
            "account_timezone": pa.array(np.full(len(rows), "Europe/Dublin")),
            "campaign_id": ids,
            "campaign_name": names,
            "impressions": imp_v[rows],
            "clicks": clicks_v[rows],
            "spend": cost_v[rows],
            "actions_purchase": conv_v[rows],
        }
    )
    return AdReports(google, meta, cell_v[g_rows], cell_v[rows], arrival[g_rows], arrival[rows])
