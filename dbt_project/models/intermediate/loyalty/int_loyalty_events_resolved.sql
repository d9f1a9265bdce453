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

   Incremental (delete+insert by loyalty_event_key), so the pseudonyms are computed once per entry, not every run: a
   run writes the entries of unpublished loads (loaded_since_last_run) and those whose customer resolves to another
   customer_key now (a CRM duplicate merged); the pre-hook deletes the entries whose customer is now a test account
   or that staging no longer holds. #}
with

loyalty_events as (

    select * from {{ ref('stg_crm__loyalty_events') }}

),

customers_resolved as (

    select * from {{ ref('int_customers_resolved') }}

),

{% if is_incremental() %}
entries_to_process as (

    select loyalty_event_id from loyalty_events where {{ loaded_since_last_run() }}
    union
    select previous.loyalty_event_id
    from {{ this }} as previous
    inner join loyalty_events on previous.loyalty_event_id = loyalty_events.loyalty_event_id
    inner join customers_resolved on loyalty_events.customer_id = customers_resolved.customer_id
    where previous.customer_key != customers_resolved.customer_key

),
{% endif %}

final as (

    select
        {{ pseudonym('loyalty_events.loyalty_event_id') }} as loyalty_event_key,
        loyalty_events.loyalty_event_id,
        customers_resolved.customer_key,
        case when loyalty_events.order_id is not null then {{ pseudonym('loyalty_events.order_id') }} end as order_key,
        loyalty_events.order_id,
        {{ date_key(reporting_date('loyalty_events.occurred_at')) }} as event_date_key,
        loyalty_events.event_type,
        loyalty_events.points,
        loyalty_events.occurred_at,
        {{ reporting_date('loyalty_events.occurred_at') }} as event_date,
        loyalty_events._loaded_at
    from loyalty_events
    inner join customers_resolved on loyalty_events.customer_id = customers_resolved.customer_id
    {%- if is_incremental() %}
        inner join entries_to_process on loyalty_events.loyalty_event_id = entries_to_process.loyalty_event_id
    {%- endif %}
    where not customers_resolved.is_test_account

)

select * from final
