{# Every completed order up to the as-of date lands in exactly one cohort cell: revenue and buyers reconcile. #}
{{ config(meta={'dagster': {'ref': {'name': 'mart_cohort_retention'}}}) }}

with

cohort as (

    select
        sum(revenue_reporting) as revenue,
        sum(cohort_size) filter (where months_since_first_order = 0) as customers
    from {{ ref('mart_cohort_retention') }}

),

facts as (

    select
        sum(net_revenue_reporting) as revenue,
        count(distinct customer_key) filter (where not is_refunded) as customers
    from {{ ref('fct_orders') }}
    where order_date <= {{ as_of_date() }}

)

select
    cohort.revenue as cohort_revenue,
    cohort.customers as cohort_customers,
    facts.revenue as fact_revenue,
    facts.customers as fact_customers
from cohort cross join facts
where cohort.revenue != facts.revenue or cohort.customers != facts.customers
