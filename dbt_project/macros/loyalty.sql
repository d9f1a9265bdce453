{# Loyalty tier from lifetime points earned (thresholds are vars, so the programme's rules live in one place). #}
{% macro loyalty_tier(points_earned) -%}
    case
        when {{ points_earned }} >= {{ var('loyalty_gold_points') }} then 'gold'
        when {{ points_earned }} >= {{ var('loyalty_silver_points') }} then 'silver'
        else 'bronze'
    end
{%- endmacro %}
