{{
    config(
        materialized='incremental',
        unique_key='ad_spend_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{# One row per ad platform x campaign x account-local day. Incremental: rows of loads no publish included yet
   (loaded_since_last_run) replace their keys; platforms restate recent days, and a restated day arrives as a re-delivery. #}
with

ad_spend as (

    select * from {{ ref('int_ad_spend_unioned') }}
    where {{ loaded_since_last_run() }}

),

final as (

    select
        {{ dbt.hash(dbt.concat(['ad_platform', "'|'", 'campaign_id', "'|'", 'cast(spend_date as varchar)'])) }} as ad_spend_key,  -- noqa: LT05
        {{ campaign_key('ad_platform', 'campaign_id') }} as campaign_key,
        {{ date_key('spend_reporting_date') }} as spend_date_key,
        spend_date,
        spend_reporting_date,
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
        platform_conversions,
        _loaded_at
    from ad_spend

)

select * from final
