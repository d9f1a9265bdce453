{# The keyed pseudonym (HMAC-SHA256, 64 hex characters) of an identifier: the only form in which CRM ids, emails,
   phones, device, login and click ids may leave the warehouse. The key is never in SQL: each engine computes it with
   a function the warehouse registers on dbt's connection (DuckDB: `c360_keyring.c360_pseudonym`, created by the
   dbt-duckdb plugin orchestration/transform/pseudonym_plugin.py from C360_PII_KEY). Normalise the value before (e.g.
   lower(trim(email))): the pseudonym is of exactly the text given. #}
{% macro pseudonym(expression) -%}
    {{ return(adapter.dispatch('pseudonym', 'c360')(expression)) }}
{%- endmacro %}

{% macro duckdb__pseudonym(expression) -%}
    c360_keyring.c360_pseudonym(cast({{ expression }} as {{ dbt.type_string() }}))
{%- endmacro %}

{% macro default__pseudonym(expression) -%}
    {{ exceptions.raise_compiler_error(
        "pseudonym(): no keyed HMAC function for adapter '" ~ adapter.type() ~ "'; register one that reads "
        ~ "C360_PII_KEY on the connection and add a " ~ adapter.type() ~ "__pseudonym implementation"
    ) }}
{%- endmacro %}
