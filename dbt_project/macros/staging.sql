{# The latest delivery of each key: a key delivered twice (re-delivery, replayed load) keeps the row with the latest
   `order_by` (e.g. updated_at desc, then _load_id desc), so the choice never depends on scan order. Used by every
   staging model; `relation` is the source CTE. #}
{% macro deduplicated(relation, key_columns, order_by) -%}
    select * exclude (_dedupe_rank)
    from (
        select
            *,
            row_number() over (partition by {{ key_columns | join(', ') }} order by {{ order_by }}) as _dedupe_rank
        from {{ relation }}
    ) as ranked
    where _dedupe_rank = 1
{%- endmacro %}

{# An email normalised for matching and hashing: trimmed and lower-cased (an empty string counts as missing). #}
{% macro normalized_email(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}

{# A timestamp as an absolute UTC instant (timestamp with time zone); naive inputs are read as UTC. #}
{% macro to_utc(column) -%}
    cast({{ column }} as timestamp with time zone)
{%- endmacro %}
