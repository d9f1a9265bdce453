{# Money stays DECIMAL end to end: a DOUBLE anywhere makes parallel sums order-dependent in the last bits, and then
   the same input no longer gives the same marts. #}
{# Convert an amount to the reporting currency with the daily rates joined by `fx_joins` as `fx_alias` (rate_to_usd
   of the row's currency on the fact's date) and `reporting_fx_alias` (rate_to_usd of the reporting currency that
   day). Rounded to cents once, here. #}
{% macro to_reporting_currency(amount, fx_alias='fx', reporting_fx_alias='reporting_fx') -%}
    cast(round({{ amount }} * {{ fx_alias }}.rate_to_usd / {{ reporting_fx_alias }}.rate_to_usd, 2) as decimal(18, 2))
{%- endmacro %}

{# The two joins `to_reporting_currency` reads: the rate of `currency_column` and of the reporting currency on
   `date_column` (int_fx_rates_daily carries, for every day, the latest published rate on or before it). Inner
   joins: a fact in an unknown currency or outside the rate table fails the reconciliation tests loudly. #}
{% macro fx_joins(currency_column, date_column, fx_alias='fx', reporting_fx_alias='reporting_fx') -%}
    inner join {{ ref('int_fx_rates_daily') }} as {{ fx_alias }}
        on {{ currency_column }} = {{ fx_alias }}.currency
        and {{ date_column }} = {{ fx_alias }}.rate_date
    inner join {{ ref('int_fx_rates_daily') }} as {{ reporting_fx_alias }}
        on {{ reporting_fx_alias }}.currency = {{ reporting_currency() }}
        and {{ date_column }} = {{ reporting_fx_alias }}.rate_date
{%- endmacro %}

{% macro reporting_currency() -%}
    '{{ var("reporting_currency") | upper }}'
{%- endmacro %}
