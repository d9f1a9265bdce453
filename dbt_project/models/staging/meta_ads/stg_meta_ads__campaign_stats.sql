with

source as (

    select * from {{ source('meta_ads', 'insights') }}

),

deduplicated as (

    {{ deduplicated('source', ['date_start', 'campaign_id'], '_load_id desc') }}

),

renamed as (

    select
        -- ids
        'meta_ads' as ad_platform,
        account_id as ad_account_id,
        cast(campaign_id as varchar) as campaign_id,

        -- attributes
        campaign_name,
        upper(trim(account_currency)) as currency,
        account_timezone,

        -- numerics (spend in the account currency)
        cast(spend as decimal(18, 6)) as spend,
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast(actions_purchase as double) as platform_conversions,

        -- dates (account-local day, as the platform reports it)
        cast(date_start as date) as spend_date,
        _load_id,
        _loaded_at

    from deduplicated

)

select * from renamed
