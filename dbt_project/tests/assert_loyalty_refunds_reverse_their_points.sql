{# A refund takes back the points its order earned: every order refunded by the as-of date (its refunded version
   updated by then) whose earn entry is in the ledger has one reversal entry of the same member, unless the
   member's balance was already 0 at the refund; a reversal takes back at most the points earned (less only when
   the member had spent them: the balance never goes negative) and belongs to a refunded order that earned.
   Returns one row per violating order. #}
{{ config(meta={'dagster': {'ref': {'name': 'int_loyalty_events_with_expiry'}}}) }}

with

entries as (

    select * from {{ ref('int_loyalty_events_with_expiry') }}

),

ledger as (

    select * from entries
    where order_id is not null

),

orders as (

    select * from {{ ref('int_orders_converted') }}

),

per_order as (

    select
        order_id,
        customer_key,
        coalesce(sum(points) filter (where event_type = 'earn'), 0) as points_earned,
        coalesce(-sum(points) filter (where event_type = 'reversal'), 0) as points_reversed,
        count(*) filter (where event_type = 'earn') as earn_entries,
        count(*) filter (where event_type = 'reversal') as reversal_entries
    from ledger
    group by order_id, customer_key

),

checked as (

    select
        per_order.*,
        orders.is_refunded,
        orders.is_refunded and {{ reporting_date('orders.updated_at') }} <= {{ as_of_date() }} as is_refunded_by_as_of
    from per_order
    left join orders on per_order.order_id = orders.order_id

),

balances_at_refund as (

    select
        checked.order_id,
        coalesce(sum(entries.points), 0) as balance_before_refund
    from checked
    inner join orders on checked.order_id = orders.order_id
    left join entries
        on checked.customer_key = entries.customer_key
        and orders.updated_at > entries.occurred_at
    where checked.is_refunded_by_as_of
    group by checked.order_id

)

select
    checked.*,
    balances_at_refund.balance_before_refund
from checked
left join balances_at_refund on checked.order_id = balances_at_refund.order_id
where checked.reversal_entries > 0 and (checked.is_refunded is distinct from true or checked.earn_entries = 0)
    or checked.reversal_entries > 1
    or checked.points_reversed > checked.points_earned
    or checked.is_refunded_by_as_of and checked.earn_entries > 0 and checked.reversal_entries = 0
    and balances_at_refund.balance_before_refund > 0
