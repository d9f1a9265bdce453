{# RFM of every customer with a completed order on or before `as_of` (a SQL date expression): recency, frequency,
   monetary, quintile scores and the named segment. One definition serves mart_rfm (at the as-of date) and
   mart_rfm_transitions (at the as-of date and at the end of the previous month). #}
{% macro rfm_segmented(as_of) -%}
    with

    measured as (

        select
            customer_key,
            {{ as_of }} as as_of_date,
            {{ dbt.datediff('max(order_date)', as_of, 'day') }} as recency_days,
            count(*) as frequency,
            sum(order_total_reporting) as monetary_reporting
        from {{ ref('int_orders_converted') }}
        where not is_refunded
            and order_date <= {{ as_of }}
        group by customer_key

    ),

    scored as (

        select
            *,
            cast({{ quintile_score('recency_days', higher_is_better=false) }} as integer) as recency_score,
            cast({{ quintile_score('frequency') }} as integer) as frequency_score,
            cast({{ quintile_score('monetary_reporting') }} as integer) as monetary_score
        from measured

    )

    select
        scored.*,
        {{ dbt.concat(['cast(scored.recency_score as varchar)', 'cast(scored.frequency_score as varchar)', 'cast(scored.monetary_score as varchar)']) }} as rfm_cell,
        segment_map.segment as rfm_segment
    from scored
    left join {{ ref('rfm_segment_map') }} as segment_map
        on scored.recency_score = segment_map.recency_score
        and scored.frequency_score = segment_map.frequency_score
{%- endmacro %}
