with

source as (

    select * from {{ source('google_ads', 'campaign_stats') }}

),

deduplicated as (

    {{ deduplicated('source', ['segments_date', 'campaign_id'], '_load_id desc') }}

),

renamed as (

    select
        -- ids
        'google_ads' as ad_platform,
        customer_id as ad_account_id,
        cast(campaign_id as varchar) as campaign_id,

        -- attributes
        campaign_name,
        upper(trim(customer_currency_code)) as currency,
        customer_time_zone as account_timezone,

        -- numerics (cost is reported in micros of the account currency)
        cast(cast(metrics_cost_micros as decimal(24, 0)) * 0.000001 as decimal(18, 6)) as spend,
        cast(metrics_impressions as bigint) as impressions,
        cast(metrics_clicks as bigint) as clicks,
        cast(metrics_conversions as double) as platform_conversions,

        -- dates (account-local day, as the platform reports it)
        cast(segments_date as date) as spend_date,
        _load_id,
        _loaded_at

    from deduplicated

)

select * from renamed
