{# A per-run setting (as_of_date, reporting_currency, fx_max_rate_age_days): the orchestrator hands it to its dbt
   calls as the environment variable C360_RUN_<NAME>; without it (dbt by hand) it is the var, from `--vars` or
   dbt_project.yml. Read only while executing: at parse time no model's shape depends on it, and reading it then
   (or passing it as `--vars`) would make dbt re-parse the project whenever the date changes (~11 s a run). A unit
   test pins it with `overrides: env_vars:`. #}
{% macro run_setting(name) -%}
    {%- if execute -%}
        {{ return(env_var('C360_RUN_' ~ (name | upper), var(name) | string)) }}
    {%- else -%}
        {{ return(var(name) | string) }}
    {%- endif -%}
{%- endmacro %}
