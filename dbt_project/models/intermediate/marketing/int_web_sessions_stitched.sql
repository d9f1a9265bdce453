{# One row per web session with the customer it belongs to, its channel and the ad platform paying for it.
   A session without a login is stitched to the customer its browser (user_pseudo_id) was logged in as in any
   session; a browser seen logged in as several customers is stitched to the first of them (by login time). #}
with

sessions as (

    select * from {{ ref('int_web_sessions') }}

),

platform_channels as (

    select * from {{ ref('ad_platform_channels') }}

),

browser_customers as (

    select user_pseudo_id, arg_min(customer_id, session_started_at) as customer_id
    from sessions
    where customer_id is not null
    group by user_pseudo_id

),

final as (

    select
        sessions.session_key,
        sessions.user_pseudo_id,
        sessions.ga_session_id,
        coalesce(sessions.customer_id, browser_customers.customer_id) as customer_id,
        sessions.customer_id is null and browser_customers.customer_id is not null as is_stitched_by_browser,
        sessions.session_started_at,
        sessions.session_date,
        coalesce(sessions.traffic_source, '(direct)') as traffic_source,
        coalesce(sessions.traffic_medium, '(none)') as traffic_medium,
        coalesce(platform_channels.ad_platform, '(none)') as ad_platform,
        coalesce(sessions.campaign_name, '(none)') as campaign_name,
        sessions.has_purchase
    from sessions
    left join browser_customers on sessions.user_pseudo_id = browser_customers.user_pseudo_id
    left join platform_channels
        on sessions.traffic_source = platform_channels.traffic_source
        and sessions.traffic_medium = platform_channels.traffic_medium

)

select * from final
