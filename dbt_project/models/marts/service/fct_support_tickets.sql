{# One row per support ticket of a real customer (test accounts excluded), in its latest delivered state, with the
   hours to first response and to resolution, so support load and speed can be reported by day and customer. The
   logic lives in int_support_tickets_resolved, which intermediate models read too. #}
with

tickets_resolved as (

    select * from {{ ref('int_support_tickets_resolved') }}

),

final as (

    select
        ticket_key,
        customer_key,
        created_date_key,
        ticket_channel,
        ticket_category,
        ticket_priority,
        ticket_status,
        is_open,
        first_response_hours,
        resolution_hours,
        csat_score,
        created_at,
        first_response_at,
        resolved_at,
        created_date
    from tickets_resolved

)

select * from final
