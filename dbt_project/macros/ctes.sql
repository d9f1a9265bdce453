{# Written between `name as` and the body of an import CTE (`select * from ref`, a plain filter at most) that the
   model reads more than once: the CTE is read in place, each reader scanning only the columns and rows it needs.
   DuckDB (2.0) materializes every CTE referenced more than once, whatever it holds: a whole copy of every column of
   the table first. At L that copy of stg_ga4__events (46M rows) was most of int_web_sessions_by_device's incremental
   query (32.9 s against 5.0 s read in place). Spark inlines such CTEs itself: nothing there. #}
{% macro read_in_place() -%}
    {{ return(adapter.dispatch('read_in_place', 'c360')()) }}
{%- endmacro %}

{% macro duckdb__read_in_place() -%}
    not materialized
{%- endmacro %}

{% macro default__read_in_place() -%}
{%- endmacro %}
