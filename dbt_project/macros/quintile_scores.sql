{# Score 1..5 of every distinct value of `column` in `relation` (5 is best), as rows (scored_value, score).
   Ties are handled explicitly: a score belongs to a value, never to a row, so equal values always score the same.
   1. Base score: the quintile of the value's first position, 1 + floor(5 * customers ranked before it / customers).
   2. A score rises by at most one from one distinct value to the next (a tie group holding 60% of customers would
      otherwise push the next value from 1 to 4, leaving 2 and 3 empty): min over earlier values v of
      (base(v) - position(v)) + position.
   3. The k-th best distinct value scores at least 6 - k, so the best value scores 5.
   Without ties this is the plain quintile; with at least five distinct values every score 1..5 occurs. #}
{% macro quintile_scores(relation, column, higher_is_better=true) -%}
    {%- set direction = 'asc' if higher_is_better else 'desc' -%}
    select
        scored_value,
        cast(greatest(
            least(
                5,
                min(base_score - value_position) over (
                    order by value_position rows between unbounded preceding and current row
                ) + value_position
            ),
            6 - (distinct_values - value_position + 1)
        ) as integer) as score
    from (
        select
            scored_value,
            value_position,
            count(*) over () as distinct_values,
            1 + floor(5.0 * (customers_up_to - customers) / sum(customers) over ()) as base_score
        from (
            select
                {{ column }} as scored_value,
                count(*) as customers,
                row_number() over (order by {{ column }} {{ direction }}) as value_position,
                sum(count(*)) over (
                    order by {{ column }} {{ direction }} rows between unbounded preceding and current row
                ) as customers_up_to
            from {{ relation }}
            group by {{ column }}
        ) as value_counts
    ) as value_bases
{%- endmacro %}
