{# Rows to (re)process in an incremental run: loaded at or after the latest load the target already holds, minus
   `incremental_lookback_hours`. Late rows and re-delivered rows carry a new _loaded_at, so they are always picked
   up; the lookback covers loads that commit out of order. On a full refresh every row qualifies. #}
{% macro loaded_since_last_run(loaded_at_column='_loaded_at', target_column='_loaded_at') -%}
    {%- if is_incremental() -%}
        {{ loaded_at_column }} >= (
            select coalesce(max({{ target_column }}), cast('1900-01-01' as timestamp with time zone))
                - interval '{{ var("incremental_lookback_hours") }} hours'
            from {{ this }}
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
