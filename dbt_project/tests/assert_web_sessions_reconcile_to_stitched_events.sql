{# The number of sessions equals the number of session-starting events, found here without window functions: an
   event starts a session when its device has no earlier event (by time, then event id), or when the event just
   before it is more than `session_timeout_minutes` older or carries different traffic. Also every event belongs
   to exactly one session (event counts add up). #}
{{ config(meta={'dagster': {'ref': {'name': 'fct_web_sessions'}}}) }}

with

events as (

    select * from {{ ref('stg_ga4__events') }}

),

predecessors as (

    select
        current_event.event_id,
        max(previous.event_at) as previous_at,
        max(previous.event_id) filter (where previous.event_at = current_event.event_at) as same_time_previous_id
    from events as current_event
    left join events as previous
        on current_event.user_pseudo_id = previous.user_pseudo_id
        and (
            current_event.event_at > previous.event_at
            or (current_event.event_at = previous.event_at and current_event.event_id > previous.event_id)
        )
    group by current_event.event_id

),

previous_events as (

    select
        current_event.*,
        previous.event_at as previous_event_at,
        previous.traffic_source as previous_source,
        previous.traffic_medium as previous_medium,
        previous.campaign_name as previous_campaign,
        {%- for platform in var('ad_platforms') %}
            previous.{{ platform.click_id }} as previous_{{ platform.click_id }},
        {%- endfor %}
        predecessors.previous_at
    from events as current_event
    inner join predecessors on current_event.event_id = predecessors.event_id
    left join events as previous
        on current_event.user_pseudo_id = previous.user_pseudo_id
        and previous.event_id = (
            select max(candidate.event_id) from events as candidate
            where candidate.user_pseudo_id = current_event.user_pseudo_id
                and candidate.event_at = predecessors.previous_at
                and (candidate.event_at < current_event.event_at or candidate.event_id < current_event.event_id)
        )

),

session_starts as (

    select count(*) as sessions
    from previous_events
    where previous_at is null
        or event_at > previous_event_at + interval '{{ var("session_timeout_minutes") }} minutes'
        or (traffic_source is not null and (
            traffic_source is distinct from previous_source
            or traffic_medium is distinct from previous_medium
            or campaign_name is distinct from previous_campaign
            {%- for platform in var('ad_platforms') %}
                or {{ platform.click_id }} is distinct from previous_{{ platform.click_id }}
            {%- endfor %}
        ))

),

modelled as (

    select
        count(*) as sessions,
        sum(event_count) as events
    from {{ ref('fct_web_sessions') }}

)

select
    session_starts.sessions as expected_sessions,
    modelled.sessions,
    modelled.events
from session_starts cross join modelled
where session_starts.sessions != modelled.sessions
    or modelled.events != (select count(*) from events)
