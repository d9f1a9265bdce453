{# The run's as-of date as a SQL date literal (a run setting: passed in by the orchestrator; never the wall clock). #}
{% macro as_of_date() -%}
    cast('{{ run_setting("as_of_date") }}' as date)
{%- endmacro %}

{# Calendar date of a UTC timestamp in the reporting timezone. #}
{% macro reporting_date(timestamp_column) -%}
    cast(timezone('{{ var("reporting_timezone") }}', {{ timestamp_column }}) as date)
{%- endmacro %}

{# Integer YYYYMMDD key of a date, joining dim_date.date_key. #}
{% macro date_key(date_column) -%}
    cast(strftime({{ date_column }}, '%Y%m%d') as integer)
{%- endmacro %}

{# Reporting-timezone date of an ad platform's account-local day. A platform day cannot be split into hours, so the
   whole day is assigned to the reporting date on which its midpoint (12:00 in the account's zone) falls: the same
   calendar date unless the zones are more than 12 hours apart. #}
{% macro account_day_to_reporting_date(date_column, timezone_column) -%}
    cast(timezone('{{ var("reporting_timezone") }}',
        timezone(coalesce({{ timezone_column }}, 'UTC'), cast({{ date_column }} as timestamp) + interval 12 hour)
    ) as date)
{%- endmacro %}

{# Hours from one UTC timestamp to a later one, exact to the second (null when either is null). #}
{% macro hours_between(start_column, end_column) -%}
    cast({{ dbt.datediff(start_column, end_column, 'second') }} / 3600.0 as decimal(10, 2))
{%- endmacro %}
