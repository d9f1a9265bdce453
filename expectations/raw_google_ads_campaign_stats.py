"""Gate on each newly loaded Google Ads campaign report (raw.google_ads_campaign_stats, latest `_load_id`)."""

from expectations import _rules as r

SUITE_NAME = "raw_google_ads_campaign_stats"
DATASET = ("raw", "google_ads_campaign_stats")
SCOPE = "unpublished_loads"

FRESHNESS_DAYS = 3  # reports close a day late and can be restated
VOLUME_BAND = 3.0
VOLUME_DAY = "segments_date"

TABLE_METRICS = """
    count(*) as row_count,
    count(*) - count(distinct (campaign_id, segments_date)) as duplicate_campaign_days,
    cast(max(segments_date) as timestamptz) as max_spend_day,
    count(*) filter (where metrics_clicks > metrics_impressions) as rows_with_more_clicks_than_impressions
"""


def row_rules() -> list:
    return [
        r.columns_present(
            ["segments_date", "campaign_id", "customer_currency_code", "metrics_cost_micros", "metrics_clicks"]
        ),
        r.not_null("segments_date", "Spend must belong to a day."),
        r.not_null("campaign_id", "Spend must belong to a campaign."),
        r.between("metrics_cost_micros", "Cost is never negative.", min_value=0),
        r.between("metrics_impressions", "Impressions are never negative.", min_value=0),
        r.between("metrics_clicks", "Clicks are never negative.", min_value=0),
        r.convertible_currency("customer_currency_code"),
    ]


def table_rules() -> list:
    return r.ad_report_table_rules()
