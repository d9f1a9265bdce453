with

ad_spend as (

    select * from {{ ref('int_ad_spend_unioned') }}

),

final as (

    select
        {{ dbt.hash(dbt.concat(['ad_platform', "'|'", 'campaign_id', "'|'", 'cast(spend_date as varchar)'])) }} as ad_spend_key,
        {{ dbt.hash(dbt.concat(['ad_platform', "'|'", 'campaign_id'])) }} as campaign_key,
        cast(strftime(spend_date, '%Y%m%d') as integer) as spend_date_key,
        spend_date,
        ad_platform,
        ad_account_id,
        account_timezone,
        campaign_id,
        campaign_name,
        currency,
        spend,
        spend_reporting,
        reporting_currency,
        impressions,
        clicks,
        platform_conversions
    from ad_spend

)

select * from final
