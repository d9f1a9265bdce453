{# One row per completed order on or before the as-of date with its last touch (the channel of the web session, as
   cut by int_web_sessions, that contains the purchase event carrying the order id as transaction id) and first touch
   (the channel of the resolved customer's first web session). An order without a purchase session, or a customer
   without any session, is attributed to {{ unknown_channel() }} rather than dropped, so attributed revenue always adds up
   to net revenue. #}
with

orders as (

    select * from {{ ref('int_orders_converted') }}
    where not is_refunded
        and order_date <= {{ as_of_date() }}

),

purchases as (

    select
        order_id,
        user_pseudo_id,
        event_at,
        event_id
    from {{ ref('stg_ga4__events') }}
    where event_name = 'purchase'
        and order_id is not null

),

sessions as (

    {# Only sessions with a purchase event can contain one: a few percent of all sessions, and only the columns the
       attribution reads. #}
    select
        session_key,
        user_pseudo_id,
        session_started_at,
        session_ended_at,
        traffic_source,
        traffic_medium,
        {%- for platform in var('ad_platforms') %}
            {{ platform.click_id }},
        {%- endfor %}
        campaign_name
    from {{ ref('int_web_sessions') }}
    where has_purchase

),

first_touch as (

    select * from {{ ref('int_customers_first_touch') }}

),

purchase_sessions as (

    {# Sessions of one device never overlap, so an event lies in exactly one of its device's sessions. #}
    select
        purchases.order_id,
        arg_min(sessions.session_key, (purchases.event_at, purchases.event_id)) as session_key
    from purchases
    inner join sessions
        on purchases.user_pseudo_id = sessions.user_pseudo_id
        and purchases.event_at between sessions.session_started_at and sessions.session_ended_at
    group by purchases.order_id

),

final as (

    select
        orders.order_id,
        orders.customer_key,
        orders.order_date,
        orders.order_total_reporting as net_revenue_reporting,
        orders.reporting_currency,
        row_number() over (partition by orders.customer_key order by orders.ordered_at, orders.order_id) = 1
            as is_first_order,
        purchase_sessions.session_key as last_touch_session_key,
        case
            when last_touch.session_key is null then {{ unknown_channel() }}
            else coalesce(last_touch.traffic_source, '(direct)')
        end as last_touch_source,
        case
            when last_touch.session_key is null then {{ unknown_channel() }}
            else coalesce(last_touch.traffic_medium, '(none)')
        end as last_touch_medium,
        coalesce(
            {{ session_ad_platform('last_touch') }},
            '(none)'
        ) as last_touch_platform,
        coalesce(last_touch.campaign_name, '(none)') as last_touch_campaign,
        first_touch.first_session_key as first_touch_session_key,
        coalesce(first_touch.first_touch_source, {{ unknown_channel() }}) as first_touch_source,
        coalesce(first_touch.first_touch_medium, {{ unknown_channel() }}) as first_touch_medium,
        coalesce(first_touch.first_touch_platform, '(none)') as first_touch_platform,
        coalesce(first_touch.first_touch_campaign, '(none)') as first_touch_campaign
    from orders
    left join purchase_sessions on orders.order_id = purchase_sessions.order_id
    left join sessions as last_touch on purchase_sessions.session_key = last_touch.session_key
    left join first_touch on orders.customer_key = first_touch.customer_key

)

select * from final
