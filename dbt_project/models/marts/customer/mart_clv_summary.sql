{# One row per dimension x value: CLV aggregates by RFM segment, acquisition cohort month and acquisition channel
   (first web touch), all from mart_clv so each dimension's rows add up to the same totals. #}
with

clv as {{ read_in_place() }} (

    select * from {{ ref('mart_clv') }}

),

by_dimension as (

    select
        'rfm_segment' as dimension,
        rfm_segment as dimension_value,
        * exclude (rfm_segment)
    from clv
    union all by name
    select
        'cohort_month' as dimension,
        strftime(cohort_month, '%Y-%m') as dimension_value,
        * exclude (cohort_month)
    from clv
    union all by name
    select
        'acquisition_channel' as dimension,
        first_touch_source || ' / ' || first_touch_medium as dimension_value,
        *
    from clv

),

final as (

    select
        dimension,
        dimension_value,
        cast(count(*) as bigint) as customers,
        cast(sum(historical_net_revenue_reporting) as decimal(18, 2)) as historical_net_revenue_reporting,
        cast(sum(historical_gross_margin_reporting) as decimal(18, 2)) as historical_gross_margin_reporting,
        cast(round(avg(historical_net_revenue_reporting), 2) as decimal(18, 2))
            as average_historical_net_revenue_reporting,
        round(avg(probability_alive), 4) as average_probability_alive,
        round(sum(expected_purchases_next_12_months), 2) as expected_purchases_next_12_months,
        cast(sum(predicted_clv_12_months_reporting) as decimal(18, 2)) as predicted_clv_12_months_reporting,
        cast(round(avg(predicted_clv_12_months_reporting), 2) as decimal(18, 2))
            as average_predicted_clv_12_months_reporting,
        {{ reporting_currency() }} as reporting_currency
    from by_dimension
    group by dimension, dimension_value

)

select * from final
