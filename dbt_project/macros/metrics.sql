{# One definition per metric: every mart that reports one of these calls its macro, so the same metric at the same
   grain is the same number everywhere (tests/assert_metrics_agree_across_marts.sql). A ratio is always computed
   from summed numerator and denominator at the grain reported, never averaged from finer rows; re-aggregating a
   mart means summing its numerator and denominator columns and calling the macro again. Division by zero is null
   on every engine (DuckDB would give inf for a DOUBLE or DECIMAL division, Spark null). #}

{% macro safe_divide(numerator, denominator) -%}
    ({{ numerator }}) / nullif({{ denominator }}, 0)
{%- endmacro %}

{# Money per unit (per customer, per order), rounded to cents once. #}
{% macro money_per(amount, units) -%}
    cast(round({{ safe_divide(amount, units) }}, 2) as decimal(18, 2))
{%- endmacro %}

{# ROAS: attributed net revenue / ad spend, both in the reporting currency over the same rows; null without spend
   (an unpaid channel has no ROAS, not an infinite one). The attribution basis is the caller's revenue column. #}
{% macro return_on_ad_spend(revenue, spend) -%}
    round({{ safe_divide(revenue, spend) }}, 4)
{%- endmacro %}

{# CAC: ad spend / new customers acquired, where a new customer is a resolved customer whose first completed order
   falls in the rows summed, credited to their acquisition channel: the channel of their first web session (first
   touch, the simulator's truth `acquisition`). Null without new customers, and null without spend: a channel
   nobody pays for (organic, email, direct) has no CAC, not a CAC of 0. #}
{% macro customer_acquisition_cost(spend, new_customers) -%}
    {{ money_per('nullif(' ~ spend ~ ', 0)', new_customers) }}
{%- endmacro %}

{# CPA: ad spend / completed orders attributed to the spend (last touch: the channel of the purchase session). #}
{% macro cost_per_acquisition(spend, attributed_orders) -%}
    {{ money_per(spend, attributed_orders) }}
{%- endmacro %}

{# AOV: net revenue of completed (not refunded) orders / their count. #}
{% macro average_order_value(net_revenue, completed_orders) -%}
    {{ money_per(net_revenue, completed_orders) }}
{%- endmacro %}

{# Retention: customers of a base group (a cohort, or the members at a month's start) active in the period / the
   group's size. Null for an empty base. (Churn is reported per customer as mart_clv.churn_risk, a model
   probability, not as a rate.) #}
{% macro retention_rate(active, base) -%}
    round({{ safe_divide(active, base) }}, 4)
{%- endmacro %}

{# Loyalty redemption rate: points redeemed / points available to redeem (balance at the period's start + points
   earned in it). Bounded by 0 and 1, since a balance never goes negative; redeemed / earned is not bounded (members
   redeem points earned earlier). #}
{% macro redemption_rate(points_redeemed, points_available) -%}
    round({{ safe_divide(points_redeemed, points_available) }}, 4)
{%- endmacro %}

{# CLV:CAC: average customer value / CAC of the same customers and spend. #}
{% macro clv_to_cac(average_clv, spend, new_customers) -%}
    round({{ safe_divide(average_clv, safe_divide('nullif(' ~ spend ~ ', 0)', new_customers)) }}, 4)
{%- endmacro %}
