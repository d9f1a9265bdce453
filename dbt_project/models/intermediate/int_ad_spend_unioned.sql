{# Both ad platforms in one vocabulary, spend converted to the reporting currency. #}
with

google_ads as (

    select * from {{ ref('stg_google_ads__campaign_stats') }}

),

meta_ads as (

    select * from {{ ref('stg_meta_ads__campaign_stats') }}

),

fx_rates as (

    select * from {{ ref('fx_rates') }}

),

unioned as (

    select * from google_ads
    union all by name
    select * from meta_ads

),

converted as (

    select
        unioned.*,
        {{ to_reporting_currency('unioned.spend') }} as spend_reporting,
        {{ reporting_currency() }} as reporting_currency
    from unioned
    inner join fx_rates as fx on unioned.currency = fx.currency
    inner join fx_rates as reporting_fx on reporting_fx.currency = {{ reporting_currency() }}

)

select * from converted
