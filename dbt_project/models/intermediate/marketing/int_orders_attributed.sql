{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_rows_gone_from(ref('int_orders_converted'), 'order_id',
            'case when not is_refunded and order_date <= ' ~ as_of_date() ~ ' then order_id end') }}",
    )
}}
{# One row per completed order on or before the as-of date with its last touch (the channel of the web session, as
   cut by int_web_sessions, that contains the purchase event carrying the order id as transaction id) and first touch
   (the channel of the resolved customer's first web session). An order without a purchase session, or a customer
   without any session, is attributed to {{ unknown_channel() }} rather than dropped, so attributed revenue always adds up
   to net revenue.

   Incremental: a run rewrites every order of each customer with an order that changed, and only those (is_first_order
   ranks a customer's orders, so they are rewritten together). A customer changed when one of their orders was loaded
   since the last run (loaded_since_last_run: new, refunded, re-delivered) or is not in the target yet (the as-of date
   moved forward); when an order's customer, date or revenue differs from the target's (a merge or split in identity
   resolution: the order's previous customer too); when their first touch differs from the target's; or when a purchase
   event of their orders is on a device whose sessions int_web_sessions_by_device cut again this run (an event of that
   device was loaded since the last run). A pre-hook deletes the orders that no longer qualify: refunded, after the
   as-of date (a run as of an earlier day), or gone from int_orders_converted (a test account). A table built before
   the model was incremental (no _loaded_at) is written again whole, once. #}
{%- set changed_only = is_incremental_with('_loaded_at') %}
with

orders as {{ read_in_place() }} (

    select * from {{ ref('int_orders_converted') }}
    where not is_refunded
        and order_date <= {{ as_of_date() }}

),

first_touch as {{ read_in_place() }} (

    select * from {{ ref('int_customers_first_touch') }}

),

{% if changed_only %}
previous as {{ read_in_place() }} (

    select * from {{ this }}

),

recut_devices as (

    select distinct user_pseudo_id from {{ ref('stg_ga4__events') }} where {{ loaded_since_last_run() }}

),

customers_to_process as (

    {# any order of theirs loaded since the last run, refunded or not: a refunded first order makes the next one first #}
    select customer_key from {{ ref('int_orders_converted') }} where {{ loaded_since_last_run() }}
    union
    select orders.customer_key
    from orders
    left join previous on orders.order_id = previous.order_id
    where previous.order_id is null
        or previous.customer_key != orders.customer_key
        or previous.order_date != orders.order_date
        or previous.net_revenue_reporting is distinct from orders.order_total_reporting
        or previous.reporting_currency != orders.reporting_currency
    union
    select previous.customer_key
    from previous
    inner join orders on previous.order_id = orders.order_id
    where previous.customer_key != orders.customer_key
    union
    select previous.customer_key
    from previous
    left join first_touch on previous.customer_key = first_touch.customer_key
    where previous.first_touch_session_key is distinct from first_touch.first_session_key
        or previous.first_touch_source != coalesce(first_touch.first_touch_source, {{ unknown_channel() }})
        or previous.first_touch_medium != coalesce(first_touch.first_touch_medium, {{ unknown_channel() }})
        or previous.first_touch_platform != coalesce(first_touch.first_touch_platform, '(none)')
        or previous.first_touch_campaign != coalesce(first_touch.first_touch_campaign, '(none)')
    union
    select orders.customer_key
    from {{ ref('stg_ga4__events') }} as events
    inner join recut_devices on events.user_pseudo_id = recut_devices.user_pseudo_id
    inner join orders on events.order_id = orders.order_id
    where events.event_name = 'purchase'

),
{% endif %}

orders_to_process as (

    select orders.*
    from orders
    {% if changed_only %}
        inner join customers_to_process on orders.customer_key = customers_to_process.customer_key
    {% endif %}

),

purchases as (

    select
        events.order_id,
        events.user_pseudo_id,
        events.event_at,
        events.event_id
    from {{ ref('stg_ga4__events') }} as events
    {% if changed_only %}
        inner join orders_to_process on events.order_id = orders_to_process.order_id
    {% endif %}
    where events.event_name = 'purchase'
        and events.order_id is not null

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
        coalesce(first_touch.first_touch_campaign, '(none)') as first_touch_campaign,
        orders._loaded_at
    from orders_to_process as orders
    left join purchase_sessions on orders.order_id = purchase_sessions.order_id
    left join sessions as last_touch on purchase_sessions.session_key = last_touch.session_key
    left join first_touch on orders.customer_key = first_touch.customer_key

)

select * from final
