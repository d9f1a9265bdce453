"""TikTok Ads: the Ads Manager custom report at campaign level, split by day (spend in account currency units).

The export (Ads Manager > Reporting > custom report, dimensions "Campaign name" + "By Day", CSV) names the day
"By Day", counts landing-page clicks as "Clicks (Destination)" and purchases as "Complete payment", and reports
"Cost" in the advertiser account's currency and its time zone's days; we add the account's "Currency" and
"Time Zone" columns (selectable attributes), since the raw layer must know both. The raw contract follows the
TikTok Marketing API's report fields (`stat_time_day`, `advertiser_id`, `spend`, `complete_payment`), so an API
extract lands in the same table. Auto-tagging appends `ttclid` to landing-page URLs.
"""

from orchestration.extract.ad_platforms.declaration import DATE, FLOAT, INT, TEXT, AdPlatform, ExportFormat

PLATFORM = AdPlatform(
    name="tiktok_ads",
    label="TikTok Ads",
    raw_table="tiktok_ads_campaign_stats",
    columns=(
        ("stat_time_day", DATE, True),  # in the advertiser account's time zone
        ("advertiser_id", TEXT, False),
        ("currency", TEXT, True),
        ("advertiser_timezone", TEXT, False),
        ("campaign_id", TEXT, True),
        ("campaign_name", TEXT, False),
        ("impressions", INT, False),
        ("clicks", INT, False),  # destination clicks (to the landing page)
        ("spend", FLOAT, False),
        ("complete_payment", INT, False),  # purchases the pixel attributed
    ),
    date_column="stat_time_day",
    account_column="advertiser_id",
    campaign_column="campaign_id",
    campaign_name_column="campaign_name",
    currency_column="currency",
    timezone_column="advertiser_timezone",
    spend_column="spend",
    spend_unit="units",
    impressions_column="impressions",
    clicks_column="clicks",
    conversions_column="complete_payment",
    export=ExportFormat(
        folder="tiktok_ads",
        stem="tiktok_ads_manager_report",
        vendor="TikTok Ads Manager custom report (campaign, by day)",
        columns=(
            ("Campaign name", "campaign_name", "text"),
            ("Campaign ID", "campaign_id", "text"),
            ("By Day", "stat_time_day", "date"),
            ("Advertiser ID", "advertiser_id", "text"),
            ("Currency", "currency", "text"),
            ("Time Zone", "advertiser_timezone", "text"),
            ("Cost", "spend", "float"),
            ("Impressions", "impressions", "int"),
            ("Clicks (Destination)", "clicks", "int"),
            ("CTR (Destination)", None, "text"),
            ("Complete payment", "complete_payment", "int"),
        ),
        echoes=(("CTR (Destination)", lambda row: f"{100 * row['clicks'] / row['impressions']:.2f}%"),),
    ),
    click_id="ttclid",
    utm_sources=("tiktok",),
    utm_mediums=("paid_social", "paidsocial", "cpc"),
    paid_channel=("tiktok", "paid_social"),
)
