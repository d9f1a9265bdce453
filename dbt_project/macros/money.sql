{# Money stays DECIMAL end to end: a DOUBLE anywhere makes parallel sums order-dependent in the last bits, and then
   the same input no longer gives the same marts. #}

{# The rate of `currency_column` to the reporting currency joined by `fx_join` as `fx_alias`: 1 for an amount
   already in the reporting currency (no rate needed, any date), else the day's rate from int_fx_rates_daily (null
   when there is none: the tests on the converted columns then fail, naming the model; the extract quarantines such
   rows first, naming the currency and the date). #}
{% macro fx_rate_to_reporting(currency_column, fx_alias='fx') -%}
    case
        when {{ currency_column }} = {{ reporting_currency() }} then cast(1 as decimal(28, 16))
        else {{ fx_alias }}.rate_to_reporting
    end
{%- endmacro %}

{# Convert an amount in `currency_column` to the reporting currency at the rate `fx_join` joined as `fx_alias`.
   Rounded to cents once, here. #}
{% macro to_reporting_currency(amount, currency_column, fx_alias='fx') -%}
    cast(round({{ amount }} * {{ fx_rate_to_reporting(currency_column, fx_alias) }}, 2) as decimal(18, 2))
{%- endmacro %}

{# The join `to_reporting_currency` reads: the rate of `currency_column` on `date_column` (int_fx_rates_daily
   carries, for every day, the latest published rate on or before it). A left join, so a row never drops out
   silently: without a rate its converted amount is null and the not_null tests on it fail. #}
{% macro fx_join(currency_column, date_column, fx_alias='fx') -%}
    left join {{ ref('int_fx_rates_daily') }} as {{ fx_alias }}
        on {{ currency_column }} = {{ fx_alias }}.currency
        and {{ date_column }} = {{ fx_alias }}.rate_date
{%- endmacro %}

{% macro reporting_currency() -%}
    '{{ run_setting("reporting_currency") | upper }}'
{%- endmacro %}
