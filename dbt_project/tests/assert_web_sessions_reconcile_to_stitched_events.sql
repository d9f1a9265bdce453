{# The number of sessions equals the number of session-starting events, found here another way than the model's
   `lag`: each device's events are numbered (by time, then event id) and every event is joined to the one numbered
   just before it. An event starts a session when it has no predecessor, or when its predecessor is more than
   `session_timeout_minutes` older or carries different traffic. Also every event belongs to exactly one session
   (event counts add up). An equi-join on the number, not the former inequality self-join, whose cost grew with the
   square of each device's events (20.8 s at M, the costliest node of the build).
   Scope (test_window_since): by default the visitors (identity components) with an event this run reprocessed,
   all their devices' events and all their sessions; all history when the window is empty (C360_DBT_TEST_SCOPE=full,
   the weekly full-check day, before a first publish, or dbt by hand). #}
{{ config(meta={'dagster': {'ref': {'name': 'fct_web_sessions'}}}) }}
-- depends_on: {{ ref('int_identity_graph') }}
{%- set since = test_window_since() %}
{%- set traffic_columns = session_traffic_columns() %}

with

{% if since -%}
visitors_in_window as (

    select distinct identity_graph.customer_key as visitor_key
    from {{ ref('stg_ga4__events') }} as events
    inner join {{ ref('int_identity_graph') }} as identity_graph
        on events.user_pseudo_id = identity_graph.identifier
    where {{ in_test_window('events._loaded_at') }}

),

identifiers_in_window as (

    select identity_graph.identifier
    from {{ ref('int_identity_graph') }} as identity_graph
    inner join visitors_in_window on identity_graph.customer_key = visitors_in_window.visitor_key

),

{% endif -%}
events as (

    {# Only what a session boundary depends on, the traffic as one hash (values_hash: equal traffic always hashes
       alike, so a collision could only add a failure, never hide one): the events are read twice (the self-join and
       the count), and at L (46M events) carrying each traffic column through the numbering and the join made this
       the longest node at the end of the build (101 s, after the model; half that narrowed). #}
    select
        user_pseudo_id,
        event_at,
        traffic_source is not null as has_traffic,
        {{ values_hash(traffic_columns) }} as traffic,
        row_number() over (partition by user_pseudo_id order by event_at, event_id) as position_on_device
    from {{ ref('stg_ga4__events') }}
    {%- if since %}
    where user_pseudo_id in (select identifier from identifiers_in_window)
    {%- endif %}

),

session_starts as (

    select count(*) as sessions
    from events as current_event
    left join events as previous
        on current_event.user_pseudo_id = previous.user_pseudo_id
        and previous.position_on_device = current_event.position_on_device - 1
    where previous.position_on_device is null
        or current_event.event_at > previous.event_at + interval '{{ var("session_timeout_minutes") }} minutes'
        or (current_event.has_traffic and current_event.traffic != previous.traffic)

),

modelled as (

    select
        count(*) as sessions,
        sum(event_count) as events
    from {{ ref('fct_web_sessions') }}
    {%- if since %}
    where visitor_key in (select visitor_key from visitors_in_window)
    {%- endif %}

)

select
    session_starts.sessions as expected_sessions,
    modelled.sessions,
    modelled.events
from session_starts cross join modelled
where session_starts.sessions != modelled.sessions
    or modelled.events != (select count(*) from events)
