{# One row per ad campaign across Google Ads and Meta Ads (campaign ids are only unique within a platform), with
   its latest name and the channel it buys. #}
with

ad_spend as (

    select * from {{ ref('int_ad_spend_unioned') }}

),

channels as (

    select * from {{ ref('dim_channel') }}
    where ad_platform is not null

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
        {{ campaign_key('campaigns.ad_platform', 'campaigns.campaign_id') }} as campaign_key,
        campaigns.ad_platform,
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.ad_account_id,
        campaigns.account_currency,
        campaigns.account_timezone,
        channels.channel,
        campaigns.first_spend_date,
        campaigns.last_spend_date
    from campaigns
    left join channels on campaigns.ad_platform = channels.ad_platform

)

select * from final
