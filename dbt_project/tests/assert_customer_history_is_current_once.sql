{# SCD2 bookkeeping of dim_customer_history: every customer in dim_customer has exactly one current version, and it
   is its latest; a customer no longer in dim_customer has none; no version ends before it starts. Contiguity (each
   version ends where the next starts) holds for customers that never left dim_customer: a customer that left and
   came back is closed at the snapshot's wall-clock time and reopened at its data time, so it is tested across
   daily increments in tests/test_incremental.py, not here. Returns one row per violation. #}
{{ config(meta={'dagster': {'ref': {'name': 'dim_customer_history'}}}) }}

with

history as (

    select * from {{ ref('dim_customer_history') }}

),

customers as (

    select customer_key from {{ ref('dim_customer') }}

),

current_versions as (

    select
        customer_key,
        count(*) as current_count,
        max(version_number) as current_version_number
    from history
    where is_current
    group by customer_key

),

latest_versions as (

    select
        customer_key,
        max(version_number) as latest_version_number
    from history
    group by customer_key

),

violations as (

    select
        customers.customer_key,
        'customer without exactly one current version' as problem
    from customers
    left join current_versions on customers.customer_key = current_versions.customer_key
    where coalesce(current_versions.current_count, 0) != 1

    union all

    select
        current_versions.customer_key,
        'current version is not the latest' as problem
    from current_versions
    inner join latest_versions on current_versions.customer_key = latest_versions.customer_key
    where current_versions.current_version_number != latest_versions.latest_version_number

    union all

    select
        current_versions.customer_key,
        'current version of a customer no longer in dim_customer' as problem
    from current_versions
    left join customers on current_versions.customer_key = customers.customer_key
    where customers.customer_key is null

    union all

    select
        customer_key,
        'version ends before it starts' as problem
    from history
    where valid_to <= valid_from

)

select * from violations
