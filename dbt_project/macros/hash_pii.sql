{# One-way hash for identifiers that must never be published in clear (emails). SHA-256 of the normalised value is
   what ad platforms' customer-match uploads expect. #}
{% macro hash_pii(expression) -%}
    {{ return(adapter.dispatch('hash_pii', 'c360')(expression)) }}
{%- endmacro %}

{% macro default__hash_pii(expression) -%}
    sha256(lower(trim({{ expression }})))
{%- endmacro %}
