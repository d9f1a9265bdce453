with

customer_orders as (

    select * from {{ ref('int_orders_summarized_to_customers') }}

),

segment_map as (

    select * from {{ ref('rfm_segment_map') }}

),

measured as (

    select
        customer_id,
        {{ as_of_date() }} as as_of_date,
        {{ dbt.datediff('last_order_date', as_of_date(), 'day') }} as recency_days,
        completed_order_count as frequency,
        net_revenue_reporting as monetary_reporting
    from customer_orders
    where completed_order_count > 0

),

scored as (

    select
        *,
        cast({{ quintile_score('recency_days', higher_is_better=false) }} as integer) as recency_score,
        cast({{ quintile_score('frequency') }} as integer) as frequency_score,
        cast({{ quintile_score('monetary_reporting') }} as integer) as monetary_score
    from measured

),

final as (

    select
        {{ dbt.hash('scored.customer_id') }} as customer_key,
        scored.as_of_date,
        scored.recency_days,
        scored.frequency,
        scored.monetary_reporting,
        {{ reporting_currency() }} as reporting_currency,
        scored.recency_score,
        scored.frequency_score,
        scored.monetary_score,
        {{ dbt.concat(['cast(scored.recency_score as varchar)', 'cast(scored.frequency_score as varchar)', 'cast(scored.monetary_score as varchar)']) }} as rfm_cell,
        segment_map.segment as rfm_segment
    from scored
    left join segment_map
        on scored.recency_score = segment_map.recency_score
        and scored.frequency_score = segment_map.frequency_score

)

select * from final
