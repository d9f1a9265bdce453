{#- dbt's `table` materialization on DuckDB, for this project: in the model's transaction, drop the table and create
    it again under its name. DuckDB's DDL is transactional, so a failed build leaves the previous table, and a reader
    sees the old table or the new one, as with a swap.

    Why: dbt-duckdb's own materialization builds the table under a temporary name, then queries the old table's
    constraints twice and its indexes once, renames it away, renames the new one in and drops the old; each rename and
    drop is an adapter call that renders a context of every macro. That was most of dbt's own Python time per table
    model, and a build holds the GIL: the XS build was as fast on 1 thread as on 4.

    A Python model runs on a cursor of its own (its own transaction), so it is built aside and renamed in. The swap
    exists for what this project does not use: foreign keys (DuckDB cannot drop or rename a table a foreign key names),
    indexes, grants, partitioning, DuckLake; a model that uses any of them gets dbt-duckdb's own materialization. -#}
{% materialization table, adapter='duckdb', supported_languages=['sql', 'python'] %}
  {%- if table_needs_dbt_duckdb_materialization() -%}
    {{ return(dbt.materialization_table_duckdb()) }}
  {%- endif -%}

  {%- set language = model['language'] -%}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set built_relation = target_relation if language == 'sql' else make_intermediate_relation(target_relation) -%}

  {%- if language == 'python' -%}
    {{ drop_relation_if_exists(load_cached_relation(built_relation)) }}
  {%- endif %}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  -- `BEGIN` happens here:
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% if language == 'python' %}
    {#- dbt-duckdb runs a Python model on a cursor of its own (not in this transaction): build it aside, then
        replace the table with it -#}
    {% call statement('main', language='python') -%}
      {{ create_table_as(False, built_relation, compiled_code, 'python') }}
    {%- endcall %}
  {% endif %}

  {% if existing_relation is not none and existing_relation.is_table %}
    {% call statement('drop_replaced_table') -%}
      drop table {{ existing_relation }}
    {%- endcall %}
  {% elif existing_relation is not none %}
    {{ drop_relation_if_exists(existing_relation) }}
  {% endif %}

  {% if language == 'sql' %}
    {% call statement('main') -%}
      {{ create_table_as(False, target_relation, compiled_code) }}
    {%- endcall %}
  {% else %}
    {% call statement('rename_built_table') -%}
      alter table {{ built_relation }} rename to {{ target_relation.identifier }}
    {%- endcall %}
  {% endif %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do persist_docs(target_relation, model) %}
  -- `COMMIT` happens here
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{% macro table_needs_dbt_duckdb_materialization() -%}
  {%- set features = [] -%}
  {%- for setting in ['indexes', 'grants', 'partitioned_by', 'partition_by', 'sorted_by'] if config.get(setting) -%}
    {%- do features.append(setting) -%}
  {%- endfor -%}
  {%- if 'foreign_key' in enforced_constraint_types() -%}{%- do features.append('a foreign key') -%}{%- endif -%}
  {%- if adapter.use_ducklake_table_workarounds(this) -%}{%- do features.append('a DuckLake catalog') -%}{%- endif -%}
  {%- if features and model['language'] != 'sql' -%}
    {{ exceptions.raise_compiler_error(
      "Python model " ~ model['name'] ~ " uses " ~ features | join(', ') ~ ": this project's table materialization "
      ~ "(macros/materializations/table.sql) builds Python models without them, and dbt-duckdb's cannot run a Python "
      ~ "model from another materialization; drop the setting or materialize the model's result in a SQL model") }}
  {%- endif -%}
  {{ return(features | length > 0) }}
{%- endmacro %}
