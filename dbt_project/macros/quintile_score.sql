{# Quintile score 1..5 of `column` across all rows; 5 is best. Ties share a score: the score comes from rank()
   (the lowest position of the tied group), so equal values always score the same and the result does not depend
   on row order. With heavy ties (e.g. many one-order customers) quintiles are therefore uneven, by design. #}
{% macro quintile_score(column, higher_is_better=true) -%}
    least(5, 1 + floor(
        5.0 * (rank() over (order by {{ column }} {{ 'asc' if higher_is_better else 'desc' }}) - 1)
        / count(*) over ()
    ))
{%- endmacro %}
