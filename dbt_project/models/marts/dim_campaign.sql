{# One row per ad campaign across Google Ads and Meta Ads (campaign ids are only unique within a platform), with
   its latest name and the channel it buys. #}
with

ad_spend as (

    select * from {{ ref('int_ad_spend_unioned') }}

),

campaigns as (

    select
        ad_platform,
        campaign_id,
        arg_max(campaign_name, spend_date) as campaign_name,
        arg_max(ad_account_id, spend_date) as ad_account_id,
        arg_max(currency, spend_date) as account_currency,
        arg_max(account_timezone, spend_date) as account_timezone,
        min(spend_date) as first_spend_date,
        max(spend_date) as last_spend_date
    from ad_spend
    group by ad_platform, campaign_id

),

final as (

    select
        {{ campaign_key('ad_platform', 'campaign_id') }} as campaign_key,
        ad_platform,
        campaign_id,
        campaign_name,
        ad_account_id,
        account_currency,
        account_timezone,
        case ad_platform when 'google_ads' then 'paid search' when 'meta_ads' then 'paid social' end as channel,
        first_spend_date,
        last_spend_date
    from campaigns

)

select * from final
