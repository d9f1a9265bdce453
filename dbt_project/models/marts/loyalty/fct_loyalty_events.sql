{{
    config(
        materialized='incremental',
        unique_key='loyalty_event_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ delete_rows_gone_from(ref('int_loyalty_events_resolved'), 'loyalty_event_key') }}",
    )
}}
{# One row per loyalty ledger entry of a real customer; points signed (earn > 0, redeem, expire and reversal < 0). The logic
   lives in int_loyalty_events_resolved, which intermediate models read too. Incremental (delete+insert by
   loyalty_event_key): each run writes the entries of unpublished loads (loaded_since_last_run), the entries it
   does not hold yet and those whose resolved customer_key changed (a CRM duplicate merged). A pre-hook deletes the
   entries int_loyalty_events_resolved no longer holds (their customer was since flagged as a test account). #}
with

loyalty_events_resolved as (

    select * from {{ ref('int_loyalty_events_resolved') }}

),

to_process as (

    select loyalty_events_resolved.*
    from loyalty_events_resolved
    {{ changed_since_last_run('loyalty_events_resolved', 'loyalty_event_key') }}

),

final as (

    select
        loyalty_event_key,
        customer_key,
        order_key,
        event_date_key,
        event_type,
        points,
        occurred_at,
        event_date,
        _loaded_at
    from to_process

)

select * from final
