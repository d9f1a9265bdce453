{# None of `columns` is null: fails with every row where one is. The not-null rule of a staging or intermediate
   model's columns in one query and one dbt node rather than one `not_null` test per column (published marts
   declare theirs as enforced `not_null` constraints instead). #}
{% test not_null_columns(model, columns) %}

select {{ columns | join(', ') }}
from {{ model }}
where {% for column in columns %}{{ column }} is null{{ ' or ' if not loop.last }}{% endfor %}

{% endtest %}
