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

{# The join and filter that keep, in an incremental run, only the rows of `relation` to (re)write: loaded since the
   last run (loaded_since_last_run), not in the target yet, or whose `compared` columns differ from the target's
   (e.g. customer_key, when identity resolution re-keys a customer). Nothing on a full refresh. #}
{% macro changed_since_last_run(relation, key, compared=['customer_key']) -%}
    {%- if is_incremental() %}
    left join {{ this }} as previous on {{ relation }}.{{ key }} = previous.{{ key }}
    where {{ loaded_since_last_run(relation ~ '._loaded_at') }}
        or previous.{{ key }} is null
        {%- for column in compared %}
        or previous.{{ column }} is distinct from {{ relation }}.{{ column }}
        {%- endfor %}
    {%- endif %}
{%- endmacro %}
