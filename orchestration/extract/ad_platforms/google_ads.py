"""Google Ads: the campaign report (API `segments.date` x campaign; cost in micros of the account currency)."""

from orchestration.extract.ad_platforms.declaration import DATE, FLOAT, INT, TEXT, AdPlatform, ExportFormat

PLATFORM = AdPlatform(
    name="google_ads",
    label="Google Ads",
    raw_table="google_ads_campaign_stats",
    columns=(
        ("segments_date", DATE, True),  # in the account's time zone
        ("customer_id", TEXT, False),
        ("customer_currency_code", TEXT, True),
        ("customer_time_zone", TEXT, False),
        ("campaign_id", TEXT, True),
        ("campaign_name", TEXT, False),
        ("metrics_impressions", INT, False),
        ("metrics_clicks", INT, False),
        ("metrics_cost_micros", INT, False),
        ("metrics_conversions", FLOAT, False),
    ),
    date_column="segments_date",
    account_column="customer_id",
    campaign_column="campaign_id",
    campaign_name_column="campaign_name",
    currency_column="customer_currency_code",
    timezone_column="customer_time_zone",
    spend_column="metrics_cost_micros",
    spend_unit="micros",
    impressions_column="metrics_impressions",
    clicks_column="metrics_clicks",
    conversions_column="metrics_conversions",
    export=ExportFormat(
        folder="google_ads",
        stem="campaign_report",
        vendor="Google Ads campaign report",
        columns=(
            ("Day", "segments_date", "date"),
            ("Customer ID", "customer_id", "text"),
            ("Campaign ID", "campaign_id", "text"),
            ("Campaign", "campaign_name", "text"),
            ("Currency code", "customer_currency_code", "text"),
            ("Time zone", "customer_time_zone", "text"),
            ("Impressions", "metrics_impressions", "int"),
            ("Clicks", "metrics_clicks", "int"),
            ("Cost", "metrics_cost_micros", "micros_from_units"),
            ("Conversions", "metrics_conversions", "float"),
        ),
    ),
    click_id="gclid",
    utm_sources=("google",),
    utm_mediums=("cpc", "ppc", "paid_search"),
    paid_channel=("google", "cpc"),
)
