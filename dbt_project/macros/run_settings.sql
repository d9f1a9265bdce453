{# A per-run setting (as_of_date, reporting_currency, fx_max_rate_age_days): the var, from `--vars` (the
   orchestrator's build passes them; it runs dbt in its process on the parsed manifest, so new values never make dbt
   re-parse) or dbt_project.yml; the environment variable C360_RUN_<NAME> wins when set (a dbt subprocess re-parses
   the project, ~11 s, whenever its `--vars` change, not its environment: the test harness's calls; a unit test pins
   it with `overrides: env_vars:`). Read only while executing: at parse time no model's shape depends on it. #}
{% macro run_setting(name) -%}
    {%- if execute -%}
        {{ return(env_var('C360_RUN_' ~ (name | upper), var(name) | string)) }}
    {%- else -%}
        {{ return(var(name) | string) }}
    {%- endif -%}
{%- endmacro %}
