{# Monthly acquisition cohorts (month of first completed order) x months since that month, every cell present
   (zero-activity months included) up to the as-of month. #}
with

orders as {{ read_in_place() }} (

    select * from {{ ref('int_orders_converted') }}
    where not is_refunded
        and order_date <= {{ as_of_date() }}

),

first_orders as (

    select
        customer_key,
        cast(date_trunc('month', min(order_date)) as date) as cohort_month
    from orders
    group by customer_key

),

cohorts as (

    select
        cohort_month,
        count(*) as cohort_size
    from first_orders
    group by cohort_month

),

month_offsets as (

    select unnest(range(0, 1 + {{ dbt.datediff("(select min(cohort_month) from cohorts)", "date_trunc('month', " ~ as_of_date() ~ ")", 'month') }})) as months_since_first_order  -- noqa: LT05

),

grid as (

    select
        cohorts.cohort_month,
        cohorts.cohort_size,
        month_offsets.months_since_first_order
    from cohorts
    cross join month_offsets
    where cohorts.cohort_month + to_months(cast(month_offsets.months_since_first_order as integer))
        <= date_trunc('month', {{ as_of_date() }})

),

activity as (

    select
        first_orders.cohort_month,
        {{ dbt.datediff('first_orders.cohort_month', "date_trunc('month', orders.order_date)", 'month') }} as months_since_first_order,  -- noqa: LT05
        count(distinct orders.customer_key) as active_customers,
        sum(orders.order_total_reporting) as revenue_reporting
    from orders
    inner join first_orders on orders.customer_key = first_orders.customer_key
    group by all

),

final as (

    select
        grid.cohort_month,
        grid.months_since_first_order,
        cast(grid.cohort_month + to_months(cast(grid.months_since_first_order as integer)) as date) as activity_month,
        grid.cohort_size,
        coalesce(activity.active_customers, 0) as active_customers,
        {{ retention_rate('coalesce(activity.active_customers, 0)', 'grid.cohort_size') }} as retention_rate,
        cast(coalesce(activity.revenue_reporting, 0) as decimal(18, 2)) as revenue_reporting,
        cast(
            round(coalesce(activity.revenue_reporting, 0) / grid.cohort_size, 2) as decimal(18, 2)
        ) as revenue_per_customer_reporting,
        cast(round(
            sum(coalesce(activity.revenue_reporting, 0)) over (
                partition by grid.cohort_month order by grid.months_since_first_order
            ) / grid.cohort_size, 2
        ) as decimal(18, 2)) as cumulative_revenue_per_customer_reporting,
        {{ reporting_currency() }} as reporting_currency
    from grid
    left join activity
        on grid.cohort_month = activity.cohort_month
        and grid.months_since_first_order = activity.months_since_first_order

)

select * from final
