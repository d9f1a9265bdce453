{# A column is the model's key: fails with each value held by more than one row, and with the null value if any
   row lacks one. One query and one dbt node where `unique` plus `not_null` are two of each (every dbt node costs
   the run ~50 ms of dbt's own Python, whatever the table's size). #}
{% test primary_key(model, column_name) %}

select
    {{ column_name }} as key_value,
    count(*) as row_count
from {{ model }}
group by {{ column_name }}
having count(*) > 1 or {{ column_name }} is null

{% endtest %}
