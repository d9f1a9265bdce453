{# Convert an amount in `currency_column` to the reporting currency using the fx_rates seed joined as `fx_alias`
   (rate_to_usd of the row's currency) and `reporting_fx_alias` (rate_to_usd of the reporting currency). #}
{% macro to_reporting_currency(amount, fx_alias='fx', reporting_fx_alias='reporting_fx') -%}
    round({{ amount }} * {{ fx_alias }}.rate_to_usd / {{ reporting_fx_alias }}.rate_to_usd, 2)
{%- endmacro %}

{% macro reporting_currency() -%}
    '{{ var("reporting_currency") | upper }}'
{%- endmacro %}
