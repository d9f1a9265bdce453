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

   Incremental: a run replaces the rows of each device with an event of a load no publish included yet
   (loaded_since_last_run; delete+insert by user_pseudo_id). Whether an event starts a session depends only on it and
   the event before it, so a device whose new events all come after the end of its last stored session (a returning
   visitor, the common case) keeps its earlier sessions as stored and has only its last session re-cut, with its new
   events (that session may run on into them), numbered on from the sessions kept. That holds only while the events
   before its last session are the ones the target counted: when their count differs (an event moved by a
   re-delivery), or any new event is not after the stored end (a late event, which can split or merge sessions),
   every session of the device is cut again from all its events, exactly as a full refresh.

   The events are read where each step needs them (stg_ga4__events by ref, never an import CTE read twice): DuckDB
   materializes a CTE referenced more than once, a full copy of every event column first (macro read_in_place). At L
   that copy was most of the cost: full 178.8 s -> 57.8 s, incremental 32.9 s -> 5.0 s (the query alone). #}
{%- set session_columns = ['session_key', 'user_pseudo_id', 'ga_session_id', 'customer_id', 'session_number',
    'session_started_at', 'session_ended_at', 'landing_page'] + session_traffic_columns()
    + ['event_count', 'page_view_count', 'has_purchase', 'order_id', 'session_date', '_loaded_at'] %}
with

{% if is_incremental() %}
new_events as (

    select
        user_pseudo_id,
        min(event_at) as first_new_at
    from {{ ref('stg_ga4__events') }}
    where {{ loaded_since_last_run() }}
    group by user_pseudo_id

),

stored_devices as (

    -- what the target holds of each device with a new event
    select
        previous.user_pseudo_id,
        min(new_events.first_new_at) as first_new_at,
        max(previous.session_ended_at) as stored_ended_at,
        max(previous.session_number) as last_session_number,
        max(previous.session_started_at) as last_started_at,
        sum(previous.event_count) - arg_max(previous.event_count, previous.session_number) as events_before_last
    from {{ this }} as previous
    inner join new_events on previous.user_pseudo_id = new_events.user_pseudo_id
    group by previous.user_pseudo_id

),

events_before_last as (

    select
        stored_devices.user_pseudo_id,
        count(events.event_id) as event_count
    from stored_devices
    left join {{ ref('stg_ga4__events') }} as events
        on stored_devices.user_pseudo_id = events.user_pseudo_id
        and events.event_at < stored_devices.last_started_at
    group by stored_devices.user_pseudo_id

),

appended_devices as (

    {# An event at the very instant the last session starts but ordered before its first event (by event id) is not
       counted before it: such a device is cut again whole too. #}
    select
        stored_devices.user_pseudo_id,
        stored_devices.last_started_at,
        stored_devices.last_session_number
    from stored_devices
    inner join events_before_last on stored_devices.user_pseudo_id = events_before_last.user_pseudo_id
    where stored_devices.first_new_at > stored_devices.stored_ended_at
        and events_before_last.event_count = stored_devices.events_before_last

),

kept_sessions as (

    select previous.*
    from {{ this }} as previous
    inner join appended_devices on previous.user_pseudo_id = appended_devices.user_pseudo_id
    where previous.session_number < appended_devices.last_session_number

),
{% endif %}

device_events as (

    {# the events to cut, and the number of the device's sessions kept before them #}
    {%- if is_incremental() %}
        select
            events.*,
            coalesce(appended_devices.last_session_number - 1, 0) as sessions_kept
        from {{ ref('stg_ga4__events') }} as events
        inner join new_events on events.user_pseudo_id = new_events.user_pseudo_id
        left join appended_devices on events.user_pseudo_id = appended_devices.user_pseudo_id
        where appended_devices.user_pseudo_id is null or events.event_at >= appended_devices.last_started_at
    {%- else %}
        select
            events.*,
            0 as sessions_kept
        from {{ ref('stg_ga4__events') }} as events
    {%- endif %}

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
        sessions_kept,
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
        sessions_kept + sum(is_session_start) over (
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
    inner join {{ ref('stg_ga4__events') }} as first_events on session_totals.first_event_id = first_events.event_id

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

select {{ session_columns | join(', ') }} from final
{%- if is_incremental() %}
union all
select {{ session_columns | join(', ') }} from kept_sessions
{%- endif %}
