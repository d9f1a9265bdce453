with

source as (

    select * from {{ source('tiktok_ads', 'campaign_stats') }}

),

deduplicated as (

    {{ deduplicated('source', ['stat_time_day', 'campaign_id'], '_load_id desc') }}

),

renamed as (

    select
        -- ids
        'tiktok_ads' as ad_platform,
        advertiser_id as ad_account_id,
        cast(campaign_id as varchar) as campaign_id,

        -- attributes
        campaign_name,
        upper(trim(currency)) as currency,
        advertiser_timezone as account_timezone,

        -- numerics (spend in the advertiser account's currency)
        cast(spend as decimal(18, 6)) as spend,
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast(complete_payment as double) as platform_conversions,

        -- dates (account-local day, as the platform reports it)
        cast(stat_time_day as date) as spend_date,
        _load_id,
        _loaded_at

    from deduplicated

)

select * from renamed
