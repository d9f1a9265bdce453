"""One generic gate per declared ad platform's daily campaign report (raw.<platform raw table>, unpublished loads).

Every ad platform reports the same facts in its own columns (orchestration/extract/ad_platforms/), so the rules are
written once here and bound to each platform's column names: `suites()` returns one suite per platform, discovered
beside the module suites (orchestration/quality/suites.py) and gated as `gx_raw_<raw table>`.
"""

from __future__ import annotations

from dataclasses import dataclass

from expectations import _rules as r
from orchestration.extract.ad_platforms import AD_PLATFORMS, AdPlatform

SCOPE = "unpublished_loads"
FRESHNESS_DAYS = 3  # reports close a day late and are restated over a few days (late conversions, invalid clicks)
VOLUME_BAND = 3.0


@dataclass(frozen=True)
class AdReportSuite:
    """The suite interface of expectations/__init__.py, for one platform."""

    platform: AdPlatform

    SCOPE = SCOPE
    FRESHNESS_DAYS = FRESHNESS_DAYS
    VOLUME_BAND = VOLUME_BAND

    @property
    def SUITE_NAME(self) -> str:  # noqa: N802 (the suite interface's attribute names)
        return f"raw_{self.platform.raw_table}"

    @property
    def DATASET(self) -> tuple[str, str]:  # noqa: N802
        return ("raw", self.platform.raw_table)

    @property
    def VOLUME_DAY(self) -> str:  # noqa: N802
        return self.platform.date_column

    @property
    def TABLE_METRICS(self) -> str:  # noqa: N802
        p = self.platform
        return f"""
    count(*) as row_count,
    count(*) - count(distinct ({p.campaign_column}, {p.date_column})) as duplicate_campaign_days,
    cast(max({p.date_column}) as timestamptz) as max_spend_day,
    count(*) filter (where {p.clicks_column} > {p.impressions_column}) as rows_with_more_clicks_than_impressions
"""

    @property
    def __doc__(self) -> str:  # the gate's description
        p = self.platform
        return f"Gate on each newly loaded {p.label} campaign report (raw.{p.raw_table}, unpublished loads)."

    def row_rules(self) -> list:
        p = self.platform
        spend = "Cost" if p.spend_unit == "micros" else "Spend"
        return [
            r.columns_present(
                [
                    p.date_column,
                    p.campaign_column,
                    p.currency_column,
                    p.spend_column,
                    p.impressions_column,
                    p.clicks_column,
                ]
            ),
            r.not_null(p.date_column, "Spend must belong to a day."),
            r.not_null(p.campaign_column, "Spend must belong to a campaign."),
            r.between(p.spend_column, f"{spend} is never negative.", min_value=0),
            r.between(p.impressions_column, "Impressions are never negative.", min_value=0),
            r.between(p.clicks_column, "Clicks are never negative.", min_value=0),
            r.convertible_currency(p.currency_column),
        ]

    def table_rules(self) -> list:
        return r.ad_report_table_rules()


def suites() -> list[AdReportSuite]:
    return [AdReportSuite(platform) for platform in AD_PLATFORMS]
