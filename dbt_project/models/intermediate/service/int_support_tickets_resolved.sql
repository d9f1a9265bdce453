{# One row per support ticket of a real customer (test accounts excluded), in its latest delivered state, attributed
   to its resolved customer, with the hours to first response and to resolution. fct_support_tickets publishes it;
   int_customers_service_summarized summarises it per customer.
   A table, not a view: its keys are keyed pseudonyms, computed once per build (the HMAC function exists only on
   dbt's connection, and every reader of a view would compute them again). #}
with

tickets as (

    select * from {{ ref('stg_crm__support_tickets') }}

),

customers_resolved as (

    select * from {{ ref('int_customers_resolved') }}

),

final as (

    select
        {{ pseudonym('tickets.ticket_id') }} as ticket_key,
        tickets.ticket_id,
        customers_resolved.customer_key,
        {{ date_key(reporting_date('tickets.created_at')) }} as created_date_key,
        tickets.ticket_channel,
        tickets.ticket_category,
        tickets.ticket_priority,
        tickets.ticket_status,
        tickets.ticket_status <> 'solved' as is_open,
        {{ hours_between('tickets.created_at', 'tickets.first_response_at') }} as first_response_hours,
        {{ hours_between('tickets.created_at', 'tickets.resolved_at') }} as resolution_hours,
        tickets.csat_score,
        tickets.created_at,
        tickets.first_response_at,
        tickets.resolved_at,
        {{ reporting_date('tickets.created_at') }} as created_date
    from tickets
    inner join customers_resolved on tickets.customer_id = customers_resolved.customer_id
    where not customers_resolved.is_test_account

)

select * from final
