{# RFM of every customer with a completed order on or before `as_of` (a SQL date expression): recency, frequency,
   monetary, tie-aware quintile scores (quintile_scores), the combined frequency-monetary score and the named segment
   of the (R, FM) cell. One definition serves mart_rfm (at the as-of date) and mart_rfm_transitions (at the as-of
   date and at the end of the previous month). #}
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

    recency_scores as ({{ quintile_scores('measured', 'recency_days', higher_is_better=false) }}),

    frequency_scores as ({{ quintile_scores('measured', 'frequency') }}),

    monetary_scores as ({{ quintile_scores('measured', 'monetary_reporting') }}),

    scored as (

        select
            measured.*,
            recency_scores.score as recency_score,
            frequency_scores.score as frequency_score,
            monetary_scores.score as monetary_score,
            {# the mean of F and M, halves rounded up #}
            cast(floor((frequency_scores.score + monetary_scores.score + 1) / 2) as integer)
                as frequency_monetary_score
        from measured
        inner join recency_scores on measured.recency_days = recency_scores.scored_value
        inner join frequency_scores on measured.frequency = frequency_scores.scored_value
        inner join monetary_scores on measured.monetary_reporting = monetary_scores.scored_value

    )

    select
        scored.*,
        {{ dbt.concat(['cast(scored.recency_score as varchar)', 'cast(scored.frequency_score as varchar)', 'cast(scored.monetary_score as varchar)']) }} as rfm_cell,
        segment_map.segment as rfm_segment
    from scored
    left join {{ ref('rfm_segment_map') }} as segment_map
        on scored.recency_score = segment_map.recency_score
        and scored.frequency_monetary_score = segment_map.frequency_monetary_score
{%- endmacro %}
