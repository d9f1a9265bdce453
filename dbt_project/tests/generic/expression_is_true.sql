{# Fails with every row where `expression` is not true (dbt_utils' test of the same name is not installable offline). #}
{% test expression_is_true(model, expression, column_name=none) %}
select * from {{ model }} where not ({{ expression }})
{% endtest %}
