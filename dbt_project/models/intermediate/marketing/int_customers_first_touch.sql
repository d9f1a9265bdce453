{# One row per customer with at least one web session (stitched) on or before the as-of date: the channel of their
   first session, i.e. the channel that acquired them. #}
with

sessions as (

    select * from {{ ref('int_web_sessions_stitched') }}
    where customer_id is not null
        and session_date <= {{ as_of_date() }}

),

final as (

    select
        customer_id,
        arg_min(session_key, (session_started_at, session_key)) as first_session_key,
        min(session_started_at) as first_session_started_at,
        arg_min(traffic_source, (session_started_at, session_key)) as first_touch_source,
        arg_min(traffic_medium, (session_started_at, session_key)) as first_touch_medium,
        arg_min(ad_platform, (session_started_at, session_key)) as first_touch_platform,
        arg_min(campaign_name, (session_started_at, session_key)) as first_touch_campaign
    from sessions
    group by customer_id

)

select * from final
