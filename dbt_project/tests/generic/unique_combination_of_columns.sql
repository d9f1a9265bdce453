{# A composite key is unique and complete: fails with one row per key combination held by more than one row, and
   one row per combination with a null key part (a null part would let a concatenated key, or a `unique` test on
   it, pass silently). Reads only the key columns, so it works on any engine without string building. #}
{% test unique_combination_of_columns(model, combination_of_columns) %}
{%- set key_columns = combination_of_columns | join(', ') %}

with

keys as (

    select {{ key_columns }}
    from {{ model }}

),

duplicated as (

    select
        {{ key_columns }},
        'duplicate key' as failure,
        count(*) as row_count
    from keys
    group by {{ key_columns }}
    having count(*) > 1

),

incomplete as (

    select
        {{ key_columns }},
        'null key part' as failure,
        count(*) as row_count
    from keys
    where {% for column in combination_of_columns %}{{ column }} is null{{ ' or ' if not loop.last }}{% endfor %}
    group by {{ key_columns }}

)

select * from duplicated
union all
select * from incomplete

{% endtest %}
