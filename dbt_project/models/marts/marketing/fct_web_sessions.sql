{{
    config(
        materialized='incremental',
        unique_key='session_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ delete_rows_gone_from(ref('int_web_sessions'), 'session_key') }}",
    )
}}
{# One row per web session (cut by int_web_sessions), with its resolved customer (null for anonymous visitors),
   channel and campaign. Incremental (delete+insert by session_key): a run writes the sessions int_web_sessions
   re-cut from events of unpublished loads (loaded_since_last_run), the sessions this table does not hold yet,
   and those whose customer, visitor or campaign key changed (a re-keyed customer, a campaign first reported
   later); the pre-hook deletes sessions a late event merged away (their key is gone from int_web_sessions). #}
with

sessions as (

    select * from {{ ref('int_web_sessions') }}

),

{% if is_incremental() %}
previous as (

    select session_key, customer_key, visitor_key, campaign_key from {{ this }}

),
{% endif %}

campaigns as {{ read_in_place() }} (

    select * from {{ ref('dim_campaign') }}

),

attributed as (

    select
        sessions.*,
        {{ session_ad_platform('sessions') }} as ad_platform
    from sessions

),

final as (

    select
        attributed.session_key,
        attributed.customer_key,
        attributed.visitor_key,
        {{ channel_key('attributed.traffic_source', 'attributed.traffic_medium') }} as channel_key,
        campaigns.campaign_key,
        {{ date_key('attributed.session_date') }} as session_date_key,
        attributed.ga_session_id,
        attributed.session_number,
        attributed.session_started_at,
        attributed.session_ended_at,
        attributed.session_date,
        attributed.landing_page,
        attributed.traffic_source,
        attributed.traffic_medium,
        attributed.campaign_name,
        attributed.ad_platform,
        {%- for platform in var('ad_platforms') %}
            attributed.{{ platform.click_id }} is not null as has_{{ platform.click_id }},
        {%- endfor %}
        attributed.event_count,
        attributed.page_view_count,
        attributed.has_purchase,
        attributed.order_id is not null as has_order_id,
        attributed._loaded_at
    from attributed
    left join campaigns
        on attributed.ad_platform = campaigns.ad_platform
        and attributed.campaign_name = campaigns.campaign_name
    {% if is_incremental() %}
    left join previous on attributed.session_key = previous.session_key
    where {{ loaded_since_last_run('attributed._loaded_at') }}
        or previous.session_key is null
        or previous.visitor_key != attributed.visitor_key
        or previous.customer_key is distinct from attributed.customer_key
        or previous.campaign_key is distinct from campaigns.campaign_key
    {% endif %}

)

select * from final
