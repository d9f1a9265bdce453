{# Money stays DECIMAL end to end: a DOUBLE anywhere makes parallel sums order-dependent in the last bits, and then
   the same input no longer gives the same marts. #}
{# Convert an amount in `currency_column` to the reporting currency using the fx_rates seed joined as `fx_alias`
   (rate_to_usd of the row's currency) and `reporting_fx_alias` (rate_to_usd of the reporting currency). #}
{% macro to_reporting_currency(amount, fx_alias='fx', reporting_fx_alias='reporting_fx') -%}
    cast(round({{ amount }} * {{ fx_alias }}.rate_to_usd / {{ reporting_fx_alias }}.rate_to_usd, 2) as decimal(18, 2))
{%- endmacro %}

{% macro reporting_currency() -%}
    '{{ var("reporting_currency") | upper }}'
{%- endmacro %}
