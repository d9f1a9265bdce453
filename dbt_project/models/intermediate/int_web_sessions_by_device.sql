{{
    config(
        materialized='incremental',
        unique_key='user_pseudo_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{# One row per web session, cut from GA4 events per device (user_pseudo_id): a session ends after
   `session_timeout_minutes` of inactivity, and an event whose traffic (macro session_traffic_columns: source,
   medium, campaign, or the click id of any declared ad platform) differs from the previous event's starts a new one. GA4's own
   ga_session_id is kept for reference only.

   It reads the events alone, not the identity graph (int_web_sessions adds the resolved customer): the largest
   window of the build runs beside identity resolution instead of after it (at L it was the build's critical path).

   Incremental: a run re-cuts every session of each device with an event of a load no publish included yet
   (loaded_since_last_run), from all of that device's events, and replaces that device's rows (delete+insert by
   user_pseudo_id). A late event can thus split or merge sessions exactly as a full refresh would. #}
with

events as (

    select * from {{ ref('stg_ga4__events') }}

),

{% if is_incremental() %}
devices_to_process as (

    select distinct user_pseudo_id from events where {{ loaded_since_last_run() }}

),
{% endif %}

device_events as (

    select events.*
    from events
    {% if is_incremental() %}
        inner join devices_to_process on events.user_pseudo_id = devices_to_process.user_pseudo_id
    {% endif %}

),

timeline as (

    {# Only what cutting sessions reads, the traffic as one hash (macro values_hash): the two windows below sort these
       rows, and carrying every event column through them made this the largest node at L (303 s of 46M events
       spilling under a 5 GB limit; M under 600 MB: 30-34 s -> 21-23 s). A different traffic hashing alike would
       hide a session start: ~2^-64 per pair of consecutive events. #}
    select
        user_pseudo_id,
        event_id,
        event_at,
        event_name,
        customer_id,
        order_id,
        _loaded_at,
        traffic_source is not null as has_traffic,
        {{ values_hash(session_traffic_columns()) }} as traffic
    from device_events

),

boundaries as (

    select
        *,
        case
            when lag(event_at) over device_timeline is null then 1
            when event_at > lag(event_at) over device_timeline + interval '{{ var("session_timeout_minutes") }} minutes'
                then 1
            when has_traffic and (traffic is distinct from lag(traffic) over device_timeline) then 1
            else 0
        end as is_session_start
    from timeline
    window device_timeline as (partition by user_pseudo_id order by event_at, event_id)

),

numbered as (

    select
        *,
        sum(is_session_start) over (
            partition by user_pseudo_id order by event_at, event_id rows between unbounded preceding and current row
        ) as session_number
    from boundaries

),

session_totals as (

    select
        user_pseudo_id,
        session_number,
        max(case when is_session_start = 1 then event_id end) as first_event_id,  -- one start per session
        max(customer_id) as customer_id,
        max(event_at) as session_ended_at,
        count(*) as event_count,
        count(*) filter (where event_name = 'page_view') as page_view_count,
        count(*) filter (where event_name = 'purchase') > 0 as has_purchase,
        max(order_id) as order_id,
        max(_loaded_at) as _loaded_at
    from numbered
    group by user_pseudo_id, session_number

),

sessionized as (

    -- a session's landing page, traffic and GA4 session id are its first event's (the one starting it, first by
    -- event time and id)
    select
        session_totals.user_pseudo_id,
        session_totals.session_number,
        session_totals.first_event_id,
        first_events.ga_session_id,
        session_totals.customer_id,
        first_events.event_at as session_started_at,
        session_totals.session_ended_at,
        first_events.page_location as landing_page,
        {%- for column in session_traffic_columns() %}
            first_events.{{ column }},
        {%- endfor %}
        session_totals.event_count,
        session_totals.page_view_count,
        session_totals.has_purchase,
        session_totals.order_id,
        session_totals._loaded_at
    from session_totals
    inner join device_events as first_events on session_totals.first_event_id = first_events.event_id

),

final as (

    select
        {{ pseudonym(dbt.concat(['user_pseudo_id', "'|'", 'first_event_id'])) }} as session_key,
        user_pseudo_id,
        ga_session_id,
        customer_id,
        session_number,
        session_started_at,
        session_ended_at,
        landing_page,
        {%- for column in session_traffic_columns() %}
            {{ column }},
        {%- endfor %}
        event_count,
        page_view_count,
        has_purchase,
        order_id,
        {{ reporting_date('session_started_at') }} as session_date,
        _loaded_at
    from sessionized

)

select * from final
