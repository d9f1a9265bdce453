{# Both ad platforms in one vocabulary. Platforms report days in the ad account's timezone: spend_date stays that
   account-local day; spend_reporting_date is the reporting-timezone date its midpoint falls on
   (macros/dates.sql). Spend is converted at the rate of spend_reporting_date. #}
with

google_ads as (

    select * from {{ ref('stg_google_ads__campaign_stats') }}

),

meta_ads as (

    select * from {{ ref('stg_meta_ads__campaign_stats') }}

),

unioned as (

    select * from google_ads
    union all by name
    select * from meta_ads

),

dated as (

    select
        unioned.*,
        {{ account_day_to_reporting_date('unioned.spend_date', 'unioned.account_timezone') }} as spend_reporting_date
    from unioned

),

converted as (

    select
        dated.*,
        {{ to_reporting_currency('dated.spend', 'dated.currency') }} as spend_reporting,
        {{ reporting_currency() }} as reporting_currency
    from dated
    {{ fx_join('dated.currency', 'dated.spend_reporting_date') }}

)

select * from converted
