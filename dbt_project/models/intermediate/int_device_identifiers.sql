{{
    config(
        materialized='incremental',
        unique_key='user_pseudo_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{# One row per combination of identifiers a device's GA4 events carried (the device, each declared ad platform's
   click id, the user_id it was logged in as): all identity resolution reads of the events (int_identity_edges), at M
   626k rows for 4.66M events.

   Incremental: a run recomputes every device with an event of a load no publish included yet
   (loaded_since_last_run) from all of that device's events and replaces its rows (delete+insert by user_pseudo_id),
   so a re-delivered event whose identifiers changed leaves no stale combination behind. #}
with

events as {{ read_in_place() }} (

    select * from {{ ref('stg_ga4__events') }}

),

{% if is_incremental() %}
devices_to_process as (

    select distinct user_pseudo_id from events where {{ loaded_since_last_run() }}

),
{% endif %}

combinations as (

    select
        events.user_pseudo_id,
        {%- for platform in var('ad_platforms') %}
            events.{{ platform.click_id }},
        {%- endfor %}
        events.customer_id,
        max(events._loaded_at) as _loaded_at
    from events
    {%- if is_incremental() %}
        inner join devices_to_process on events.user_pseudo_id = devices_to_process.user_pseudo_id
    {%- endif %}
    group by all

)

select * from combinations
