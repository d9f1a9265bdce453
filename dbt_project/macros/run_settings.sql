{# A per-run setting (as_of_date, reporting_currency, fx_max_rate_age_days) as a string: the var, from `--vars` (the
   orchestrator's build passes them; it runs dbt in its process on the parsed manifest, so new values never make dbt
   re-parse) or dbt_project.yml. Read only while executing: at parse time it is the project's default, and no model's
   shape depends on it. A unit test pins it with `overrides: vars:`. #}
{% macro run_setting(name) -%}
    {{ return(var(name) | string) }}
{%- endmacro %}
