{{
    config(
        materialized='incremental',
        unique_key='user_pseudo_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{# One row per web session, cut from GA4 events per device (user_pseudo_id): a session ends after
   `session_timeout_minutes` of inactivity, and an event whose traffic (source, medium, campaign, or the click id
   of any declared ad platform, var ad_platforms) differs from the previous event's starts a new one. GA4's own ga_session_id is kept for reference only.

   Incremental: a run re-cuts every session of each device with an event of a load no publish included yet
   (loaded_since_last_run), from all of that device's events, and of each device whose resolved customer changed;
   it replaces those devices' rows (delete+insert by user_pseudo_id). A late event can thus split or merge sessions exactly as
   a full refresh would. #}
with

events as (

    select * from {{ ref('stg_ga4__events') }}

),

identity_graph as (

    select * from {{ ref('int_identity_graph') }}
    where identifier_type = 'user_pseudo_id'

),

{% if is_incremental() %}
devices_to_process as (

    select user_pseudo_id from events where {{ loaded_since_last_run() }}
    union
    select previous.user_pseudo_id
    from {{ this }} as previous
    inner join identity_graph on previous.user_pseudo_id = identity_graph.identifier
    where previous.visitor_key != identity_graph.customer_key
        or previous.customer_key is distinct from
            (case when identity_graph.is_known_customer then identity_graph.customer_key end)

),
{% endif %}

device_events as (

    select events.*
    from events
    {% if is_incremental() %}
    inner join devices_to_process on events.user_pseudo_id = devices_to_process.user_pseudo_id
    {% endif %}

),

boundaries as (

    select
        *,
        case
            when lag(event_at) over device_timeline is null then 1
            when event_at > lag(event_at) over device_timeline + interval '{{ var("session_timeout_minutes") }} minutes'
                then 1
            when
                traffic_source is not null
                and (
                    traffic_source is distinct from lag(traffic_source) over device_timeline
                    or traffic_medium is distinct from lag(traffic_medium) over device_timeline
                    or campaign_name is distinct from lag(campaign_name) over device_timeline
                    {%- for platform in var('ad_platforms') %}
                        or {{ platform.click_id }} is distinct from lag({{ platform.click_id }}) over device_timeline
                    {%- endfor %}
                )
                then 1
            else 0
        end as is_session_start
    from device_events
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

sessionized as (

    select
        user_pseudo_id,
        session_number,
        arg_min(event_id, event_at) as first_event_id,
        arg_min(ga_session_id, event_at) as ga_session_id,
        max(customer_id) as customer_id,
        min(event_at) as session_started_at,
        max(event_at) as session_ended_at,
        arg_min(page_location, event_at) as landing_page,
        arg_min(traffic_source, event_at) as traffic_source,
        arg_min(traffic_medium, event_at) as traffic_medium,
        arg_min(campaign_name, event_at) as campaign_name,
        {%- for platform in var('ad_platforms') %}
            arg_min({{ platform.click_id }}, event_at) as {{ platform.click_id }},
        {%- endfor %}
        count(*) as event_count,
        count(*) filter (where event_name = 'page_view') as page_view_count,
        count(*) filter (where event_name = 'purchase') > 0 as has_purchase,
        max(order_id) as order_id,
        max(_loaded_at) as _loaded_at
    from numbered
    group by user_pseudo_id, session_number

),

final as (

    select
        {{ pseudonym(dbt.concat(['sessionized.user_pseudo_id', "'|'", 'sessionized.first_event_id'])) }} as session_key,
        sessionized.user_pseudo_id,
        sessionized.ga_session_id,
        sessionized.customer_id,
        case when identity_graph.is_known_customer then identity_graph.customer_key end as customer_key,
        identity_graph.customer_key as visitor_key,
        sessionized.session_number,
        sessionized.session_started_at,
        sessionized.session_ended_at,
        sessionized.landing_page,
        sessionized.traffic_source,
        sessionized.traffic_medium,
        sessionized.campaign_name,
        {%- for platform in var('ad_platforms') %}
            sessionized.{{ platform.click_id }},
        {%- endfor %}
        sessionized.event_count,
        sessionized.page_view_count,
        sessionized.has_purchase,
        sessionized.order_id,
        {{ reporting_date('sessionized.session_started_at') }} as session_date,
        sessionized._loaded_at
    from sessionized
    inner join identity_graph on sessionized.user_pseudo_id = identity_graph.identifier

)

select * from final
