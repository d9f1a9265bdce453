with

rfm as (

    {{ rfm_segmented(as_of_date()) }}

),

final as (

    select
        customer_key,
        as_of_date,
        recency_days,
        frequency,
        monetary_reporting,
        {{ reporting_currency() }} as reporting_currency,
        recency_score,
        frequency_score,
        monetary_score,
        frequency_monetary_score,
        rfm_cell,
        rfm_segment
    from rfm

)

select * from final
