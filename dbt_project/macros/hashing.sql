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

{# An aggregate: one 64-bit fingerprint of the set of a group's (distinct, non-null) `column` values, whatever their
   order: the count and the XOR of each value's hash. Equal sets always fingerprint alike; a changed set keeps its
   fingerprint with probability ~2^-64. Used where a stored fingerprint says whether a group changed since the last
   run (int_identity_graph: a node's links; int_loyalty_member_months: a member's dated inputs). #}
{% macro set_hash(column) -%}
    {{ return(adapter.dispatch('set_hash', 'c360')(column)) }}
{%- endmacro %}

{% macro duckdb__set_hash(column) -%}
    {#- hash(null) is a value, not null: nulls are left out before hashing -#}
    hash(count({{ column }}), bit_xor(case when {{ column }} is not null then hash({{ column }}) end))
{%- endmacro %}

{% macro spark__set_hash(column) -%}
    xxhash64(count({{ column }}), bit_xor(case when {{ column }} is not null then xxhash64({{ column }}) end))
{%- endmacro %}

{% macro default__set_hash(column) -%}
    {#- md5 of the values' md5s in order, comma-separated (an md5 holds no comma, so no two sets share the text) -#}
    {%- set value_hash = dbt.hash('cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ ')') -%}
    {{ dbt.hash(dbt.listagg(value_hash, "','", 'order by ' ~ value_hash)) }}
{%- endmacro %}
