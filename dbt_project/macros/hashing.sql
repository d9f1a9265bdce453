{# One 64-bit hash of several columns, nulls included (two rows with the same values, nulls in the same places, hash
   alike): compares a whole tuple with one value, e.g. an event's traffic with the previous event's. Equal values
   always hash alike; different values collide with probability ~2^-64 per pair. #}
{% macro values_hash(columns) -%}
    {{ return(adapter.dispatch('values_hash', 'c360')(columns)) }}
{%- endmacro %}

{% macro duckdb__values_hash(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__values_hash(columns) -%}
    xxhash64({{ columns | join(', ') }})
{%- endmacro %}

{% macro default__values_hash(columns) -%}
    {#- md5 of the values as text, each marked present ('v...') or null ('n'), separated by '|' -#}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- if not loop.first %}{% do parts.append("'|'") %}{% endif -%}
        {%- do parts.append("coalesce('v' || cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), 'n')") -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
