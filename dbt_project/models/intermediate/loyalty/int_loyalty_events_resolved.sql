{{
    config(
        materialized='incremental',
        unique_key='loyalty_event_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{% if is_incremental() %}delete from {{ this }} where loyalty_event_id not in"
            " (select loyalty_events.loyalty_event_id from {{ ref('stg_crm__loyalty_events') }} as loyalty_events"
            " inner join {{ ref('int_customers_resolved') }} as customers_resolved"
            " on loyalty_events.customer_id = customers_resolved.customer_id"
            " where not customers_resolved.is_test_account){% endif %}",
    )
}}
{# One row per loyalty ledger entry of a real customer (test accounts excluded), attributed to its resolved customer
   so merged CRM duplicates share one ledger; points signed (earn > 0, redeem, expire and reversal < 0). fct_loyalty_events
   publishes it; int_loyalty_events_with_expiry completes it with the expiries the programme rule implies.
   A table, not a view: its keys are keyed pseudonyms, computed once per build (the HMAC function exists only on
   dbt's connection, and every reader of a view would compute them again).

   Incremental (delete+insert by loyalty_event_key), so the pseudonyms are computed once per entry, not every run:
   by the shared rule changed_since_last_run (on loyalty_event_id), a run writes the entries of unpublished loads,
   those it does not hold yet (a customer no longer flagged as a test account) and those whose customer resolves to
   another customer_key now (a CRM duplicate merged); the pre-hook deletes the entries whose customer is now a test
   account or that staging no longer holds. #}
with

loyalty_events as (

    select * from {{ ref('stg_crm__loyalty_events') }}

),

customers_resolved as (

    select * from {{ ref('int_customers_resolved') }}

),

resolved as (

    select
        loyalty_events.*,
        customers_resolved.customer_key
    from loyalty_events
    inner join customers_resolved on loyalty_events.customer_id = customers_resolved.customer_id
    where not customers_resolved.is_test_account

),

to_process as (

    select resolved.*
    from resolved
    {{ changed_since_last_run('resolved', 'loyalty_event_id') }}

),

final as (

    select
        {{ pseudonym('loyalty_event_id') }} as loyalty_event_key,
        loyalty_event_id,
        customer_key,
        case when order_id is not null then {{ pseudonym('order_id') }} end as order_key,
        order_id,
        {{ date_key(reporting_date('occurred_at')) }} as event_date_key,
        event_type,
        points,
        occurred_at,
        {{ reporting_date('occurred_at') }} as event_date,
        _loaded_at
    from to_process

)

select * from final
