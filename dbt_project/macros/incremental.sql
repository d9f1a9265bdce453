{# Rows to (re)process in an incremental run: those of the loads no publish has included yet (run setting
   `reprocess_loaded_since`, the earliest such load's time, from the ledger: a failed run's loads and a load that
   committed out of order are reprocessed, published ones are not); without it (dbt by hand, or nothing unpublished),
   rows newer than the newest the target holds. Late and re-delivered rows carry a new _loaded_at, so they are
   picked up either way. On a full refresh every row qualifies. #}
{% macro loaded_since_last_run(loaded_at_column='_loaded_at', target_column='_loaded_at') -%}
    {%- if is_incremental() -%}
        {%- set since = run_setting('reprocess_loaded_since') -%}
        {%- if since -%}
            {{ loaded_at_column }} >= cast('{{ since }}' as timestamp with time zone)
        {%- else -%}
            {{ loaded_at_column }} > (
                select coalesce(max({{ target_column }}), cast('1900-01-01' as timestamp with time zone))
                from {{ this }}
            )
        {%- endif -%}
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

{# Where the reconciliation tests over incremental models start: the rows loaded at or after it are what this run
   reprocessed (run setting `test_window_since`, the orchestrator's `reprocess_loaded_since`; empty with
   C360_DBT_TEST_SCOPE=full and weekly, C360_DBT_FULL_TEST_WEEKDAY). Empty: the tests check all history. #}
{% macro test_window_since() -%}
    {{ return(run_setting('test_window_since')) }}
{%- endmacro %}

{# Filter of a reconciliation test: rows loaded in the test window (test_window_since), or every row when it is
   empty. #}
{% macro in_test_window(loaded_at_column='_loaded_at') -%}
    {%- set since = test_window_since() -%}
    {%- if since -%}
        {{ loaded_at_column }} >= cast('{{ since }}' as timestamp with time zone)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{# dbt's hook for a generic test's `where` config (its documented override point): the placeholder
   `__in_test_window__` becomes in_test_window() at execution, so a row-level test of a model that rewrites exactly
   the rows of the window's loads checks those rows, and all history on a full check (a `where` config is rendered
   when dbt parses, before the run's settings exist, so it cannot call the macro itself). Any other `where` works as
   dbt's own. #}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- set where = where | replace('__in_test_window__', in_test_window('_loaded_at')) -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{# Pre-hook of an incremental model: delete the rows whose `key` its source no longer holds (`source_key`, an
   expression over `relation`, by default the same column): an identifier no link holds, a session a late event
   merged away, the orders and loyalty entries of a customer since flagged as a test account. Nothing on a full
   refresh. #}
{% macro delete_rows_gone_from(relation, key, source_key=none) -%}
    {%- if is_incremental() %}
    delete from {{ this }}
    where {{ key }} not in (
        select source_keys.key_value
        from (select {{ source_key or key }} as key_value from {{ relation }}) as source_keys
        where source_keys.key_value is not null
    )
    {%- endif %}
{%- endmacro %}

{# True in an incremental run whose target already has `column`: a model that keeps a bookkeeping column tells a
   table built by an earlier version of itself (without the column) from its own, and writes that one again whole. #}
{% macro is_incremental_with(column) -%}
    {{ return(is_incremental() and column in (adapter.get_columns_in_relation(this) | map(attribute='name') | list)) }}
{%- endmacro %}
