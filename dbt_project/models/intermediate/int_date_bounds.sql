{# One row: the calendar the data needs, in the reporting timezone. From the first dated record (order, signup, web
   event, ad day, loyalty event, support ticket) to the later of the as-of date and the last dated record, each
   widened by a day (an ad account's day can fall on the neighbouring reporting date). dim_date adds
   var('dim_date_horizon_days') after it; int_fx_rates_daily covers exactly it. A table: int_fx_rates_daily and
   dim_date read it several times each, and as a view every read re-scanned every staging model (GA4 deduplication
   included). #}
with

dated as (

    select
        min({{ reporting_date('ordered_at') }}) as first_date,
        max({{ reporting_date('ordered_at') }}) as last_date
    from {{ ref('stg_crm__orders') }}
    union all
    select
        min({{ reporting_date('signed_up_at') }}) as first_date,
        max({{ reporting_date('signed_up_at') }}) as last_date
    from {{ ref('stg_crm__customers') }}
    union all
    select
        min({{ reporting_date('event_at') }}) as first_date,
        max({{ reporting_date('event_at') }}) as last_date
    from {{ ref('stg_ga4__events') }}
    union all
    select
        min(spend_date) as first_date,
        max(spend_date) as last_date
    from {{ ref('stg_google_ads__campaign_stats') }}
    union all
    select
        min(spend_date) as first_date,
        max(spend_date) as last_date
    from {{ ref('stg_meta_ads__campaign_stats') }}
    union all
    select
        min({{ reporting_date('occurred_at') }}) as first_date,
        max({{ reporting_date('occurred_at') }}) as last_date
    from {{ ref('stg_crm__loyalty_events') }}
    union all
    select
        min({{ reporting_date('created_at') }}) as first_date,
        max({{ reporting_date('created_at') }}) as last_date
    from {{ ref('stg_crm__support_tickets') }}
    union all
    select
        {{ as_of_date() }} as first_date,
        {{ as_of_date() }} as last_date

),

final as (

    select
        cast({{ dbt.dateadd('day', -1, 'min(first_date)') }} as date) as first_date,
        cast({{ dbt.dateadd('day', 1, 'max(last_date)') }} as date) as last_date
    from dated

)

select * from final
