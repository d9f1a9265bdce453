{# The run's as-of date as a SQL date literal (passed in by the orchestrator; never the wall clock). #}
{% macro as_of_date() -%}
    cast('{{ var("as_of_date") }}' as date)
{%- endmacro %}

{# Calendar date of a UTC timestamp in the reporting timezone. #}
{% macro reporting_date(timestamp_column) -%}
    cast(timezone('{{ var("reporting_timezone") }}', {{ timestamp_column }}) as date)
{%- endmacro %}
