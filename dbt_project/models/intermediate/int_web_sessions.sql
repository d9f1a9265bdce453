{# One row per GA4 session (user_pseudo_id, ga_session_id): traffic of its first event, logged-in customer if any. #}
with

events as (

    select * from {{ ref('stg_ga4__events') }}

),

sessionized as (

    select
        {{ dbt.hash(dbt.concat(['user_pseudo_id', "'|'", 'cast(ga_session_id as varchar)'])) }} as session_key,
        user_pseudo_id,
        ga_session_id,
        max(customer_id) as customer_id,
        min(event_at) as session_started_at,
        arg_min(traffic_source, event_at) as traffic_source,
        arg_min(traffic_medium, event_at) as traffic_medium,
        arg_min(campaign_name, event_at) as campaign_name,
        arg_min(gclid, event_at) as gclid,
        arg_min(fbclid, event_at) as fbclid,
        count(*) filter (where event_name = 'page_view') as page_view_count,
        count(*) filter (where event_name = 'purchase') > 0 as has_purchase
    from events
    group by user_pseudo_id, ga_session_id

)

select
    *,
    {{ reporting_date('session_started_at') }} as session_date
from sessionized
