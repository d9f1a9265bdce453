{# Test and internal accounts: the one place their rules live (domains and names are vars in dbt_project.yml).
   A record is a test account when its (normalised) email is on an internal/test domain or any subdomain of one,
   its local part starts with a test prefix (`test+...`), or its first or last name is a test name. Such records
   stay in staging (flagged) and are excluded from every mart. #}
{% macro is_test_account(email, first_name, last_name) -%}
    (
        coalesce(split_part({{ email }}, '@', 2) in (
            {%- for domain in var('test_account_email_domains') %}'{{ domain }}'{{ ',' if not loop.last }}{% endfor -%}
        ), false)
        {%- for domain in var('test_account_email_domains') %}
        or coalesce({{ email }} like '%@%.{{ domain }}', false)
        {%- endfor %}
        {%- for prefix in var('test_account_local_part_prefixes') %}
        or coalesce({{ email }} like '{{ prefix }}%', false)
        {%- endfor %}
        or coalesce(lower(trim({{ first_name }})) in (
            {%- for name in var('test_account_names') %}'{{ name }}'{{ ',' if not loop.last }}{% endfor -%}
        ), false)
        or coalesce(lower(trim({{ last_name }})) in (
            {%- for name in var('test_account_names') %}'{{ name }}'{{ ',' if not loop.last }}{% endfor -%}
        ), false)
    )
{%- endmacro %}
