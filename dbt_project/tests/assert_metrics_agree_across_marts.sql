{# One definition per metric (macros/metrics.sql), so the same metric at the same grain is the same number in every
   mart that reports it:
   - per acquisition channel over the whole history: new customers, spend and CAC of mart_marketing_performance
     (summed, then the CAC macro) equal mart_channel_clv_cac's;
   - per customer: AOV of mart_customer_360 equals net revenue / completed orders of mart_rfm and of mart_clv.
   Returns one row per disagreement. #}
{{ config(meta={'dagster': {'ref': {'name': 'mart_channel_clv_cac'}}}) }}

with

performance_by_channel as (

    select
        traffic_source,
        traffic_medium,
        sum(spend_reporting) as spend_reporting,
        sum(new_customers) as new_customers,
        {{ customer_acquisition_cost('sum(spend_reporting)', 'sum(new_customers)') }} as customer_acquisition_cost
    from {{ ref('mart_marketing_performance') }}
    group by traffic_source, traffic_medium

),

channel_clv_cac as (

    select * from {{ ref('mart_channel_clv_cac') }}

),

cac_disagreements as (

    select 'CAC ' || coalesce(channel_clv_cac.acquisition_channel, performance_by_channel.traffic_source) as problem
    from channel_clv_cac
    full outer join performance_by_channel
        on channel_clv_cac.traffic_source = performance_by_channel.traffic_source
        and channel_clv_cac.traffic_medium = performance_by_channel.traffic_medium
    where coalesce(performance_by_channel.new_customers, 0) != coalesce(channel_clv_cac.customers_acquired, 0)
        or coalesce(performance_by_channel.spend_reporting, 0) != coalesce(channel_clv_cac.spend_reporting, 0)
        or coalesce(performance_by_channel.customer_acquisition_cost, -1)
        != coalesce(channel_clv_cac.customer_acquisition_cost_reporting, -1)

),

aov_disagreements as (

    select 'AOV ' || customer_360.customer_key as problem
    from {{ ref('mart_customer_360') }} as customer_360
    left join {{ ref('mart_rfm') }} as rfm on customer_360.customer_key = rfm.customer_key
    left join {{ ref('mart_clv') }} as clv on customer_360.customer_key = clv.customer_key
    where coalesce(customer_360.average_order_value_reporting, -1)
        != coalesce({{ average_order_value('rfm.monetary_reporting', 'rfm.frequency') }}, -1)
        or coalesce(customer_360.average_order_value_reporting, -1) != coalesce({{ average_order_value(
            'clv.historical_net_revenue_reporting', 'clv.historical_order_count'
        ) }}, -1)

)

select * from cac_disagreements
union all
select * from aov_disagreements
