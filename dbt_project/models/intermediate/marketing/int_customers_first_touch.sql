{# One row per resolved customer with at least one web session on or before the as-of date: the channel of their
   first session, i.e. the channel that acquired them. Anonymous sessions count once the identity graph ties their
   device to the customer (int_web_sessions.customer_key), the same stitching every mart uses. #}
with

sessions as {{ read_in_place() }} (

    select * from {{ ref('int_web_sessions') }}
    where customer_key is not null
        and session_date <= {{ as_of_date() }}

),

first_sessions as (

    select
        customer_key,
        arg_min(session_key, (session_started_at, session_key)) as first_session_key,
        min(session_started_at) as first_session_started_at
    from sessions
    group by customer_key

),

final as (

    select
        first_sessions.customer_key,
        first_sessions.first_session_key,
        first_sessions.first_session_started_at,
        coalesce(sessions.traffic_source, '(direct)') as first_touch_source,
        coalesce(sessions.traffic_medium, '(none)') as first_touch_medium,
        coalesce(
            {{ session_ad_platform('sessions') }},
            '(none)'
        ) as first_touch_platform,
        coalesce(sessions.campaign_name, '(none)') as first_touch_campaign
    from first_sessions
    inner join sessions on first_sessions.first_session_key = sessions.session_key

)

select * from final
