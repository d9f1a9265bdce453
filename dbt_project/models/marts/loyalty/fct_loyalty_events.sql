{# One row per loyalty ledger entry of a real customer; points signed (earn > 0, redeem and expire < 0). The logic
   lives in int_loyalty_events_resolved, which intermediate models read too. #}
with

loyalty_events_resolved as (

    select * from {{ ref('int_loyalty_events_resolved') }}

),

final as (

    select
        loyalty_event_key,
        loyalty_event_id,
        customer_key,
        order_key,
        order_id,
        event_date_key,
        event_type,
        points,
        occurred_at,
        event_date
    from loyalty_events_resolved

)

select * from final
