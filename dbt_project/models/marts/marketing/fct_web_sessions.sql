{# One row per web session (cut by int_web_sessions), with its resolved customer (null for anonymous visitors),
   channel and campaign. #}
with

sessions as (

    select * from {{ ref('int_web_sessions') }}

),

campaigns as (

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
        attributed.order_id is not null as has_order_id
    from attributed
    left join campaigns
        on attributed.ad_platform = campaigns.ad_platform
        and attributed.campaign_name = campaigns.campaign_name

)

select * from final
