{{
    config(
        materialized='incremental',
        unique_key='user_pseudo_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{# One row per web session (int_web_sessions_by_device, which cuts them) with the resolved customer of its device.

   Incremental: a run rewrites every session of each device int_web_sessions_by_device re-cut this run (a session of
   it holds an event of a load no publish included yet, loaded_since_last_run) and of each device whose resolved
   customer changed, replacing those devices' rows (delete+insert by user_pseudo_id). #}
with

sessions as {{ read_in_place() }} (

    select * from {{ ref('int_web_sessions_by_device') }}

),

identity_graph as {{ read_in_place() }} (

    select * from {{ ref('int_identity_graph') }}
    where identifier_type = 'user_pseudo_id'

),

{% if is_incremental() %}
devices_to_process as (

    select user_pseudo_id from sessions where {{ loaded_since_last_run() }}
    union
    select previous.user_pseudo_id
    from {{ this }} as previous
    inner join identity_graph on previous.user_pseudo_id = identity_graph.identifier
    where previous.visitor_key != identity_graph.customer_key
        or previous.customer_key is distinct from
            (case when identity_graph.is_known_customer then identity_graph.customer_key end)

),
{% endif %}

final as (

    select
        sessions.session_key,
        sessions.user_pseudo_id,
        sessions.ga_session_id,
        sessions.customer_id,
        case when identity_graph.is_known_customer then identity_graph.customer_key end as customer_key,
        identity_graph.customer_key as visitor_key,
        sessions.session_number,
        sessions.session_started_at,
        sessions.session_ended_at,
        sessions.landing_page,
        sessions.traffic_source,
        sessions.traffic_medium,
        sessions.campaign_name,
        {%- for platform in var('ad_platforms') %}
            sessions.{{ platform.click_id }},
        {%- endfor %}
        sessions.event_count,
        sessions.page_view_count,
        sessions.has_purchase,
        sessions.order_id,
        sessions.session_date,
        sessions._loaded_at
    from sessions
    inner join identity_graph on sessions.user_pseudo_id = identity_graph.identifier
    {% if is_incremental() %}
        inner join devices_to_process on sessions.user_pseudo_id = devices_to_process.user_pseudo_id
    {% endif %}

)

select * from final
