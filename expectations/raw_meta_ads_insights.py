"""Gate on each newly loaded Meta Ads insights report (raw.meta_ads_insights, latest `_load_id`)."""

from expectations import _rules as r

SUITE_NAME = "raw_meta_ads_insights"
DATASET = ("raw", "meta_ads_insights")
SCOPE = "unpublished_loads"

FRESHNESS_DAYS = 3  # insights settle over a few days (attribution windows)
VOLUME_BAND = 3.0
VOLUME_DAY = "date_start"

TABLE_METRICS = """
    count(*) as row_count,
    count(*) - count(distinct (campaign_id, date_start)) as duplicate_campaign_days,
    cast(max(date_start) as timestamptz) as max_spend_day,
    count(*) filter (where clicks > impressions) as rows_with_more_clicks_than_impressions
"""


def row_rules() -> list:
    return [
        r.columns_present(["date_start", "campaign_id", "account_currency", "spend", "impressions", "clicks"]),
        r.not_null("date_start", "Spend must belong to a day."),
        r.not_null("campaign_id", "Spend must belong to a campaign."),
        r.between("spend", "Spend is never negative.", min_value=0),
        r.between("impressions", "Impressions are never negative.", min_value=0),
        r.between("clicks", "Clicks are never negative.", min_value=0),
        r.convertible_currency("account_currency"),
    ]


def table_rules() -> list:
    return r.ad_report_table_rules()
