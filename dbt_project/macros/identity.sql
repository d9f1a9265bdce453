{# A graph node id: a rank that sorts CRM customer ids first, the identifier type, the identifier. The minimum node
   of a component is therefore its smallest CRM customer id whenever it has one, which makes the resolved key of
   merged duplicates the key of their smallest id, stable across runs. Click ids (any declared ad platform's) rank
   last: a click id always hangs on the device that carried it, so it is never a component's minimum. #}
{% macro identity_node(identifier_type, identifier) -%}
    {%- set ranks = {'customer_id': 1, 'email': 2, 'user_id': 3, 'user_pseudo_id': 4} -%}
    {%- set rank = ranks.get(identifier_type, 5) -%}
    {{ dbt.concat(["'" ~ rank ~ "|" ~ identifier_type ~ "|'", identifier]) }}
{%- endmacro %}

{# Connected components by min-label propagation in `iterations` rounds: each round every node takes the smallest
   label among itself and its neighbours. `edges` must be symmetric and hold a self-loop per node (node, neighbour).
   Rounds needed = the graph's diameter; tests/assert_identity_graph_is_converged.sql proves the result is a
   fixpoint (every edge joins two nodes with the same label), so too few rounds fail a test, never silently. #}
{% macro propagate_min_label(edges, iterations) -%}
    labels_0 as (
        select distinct node, node as label from {{ edges }}
    ),
    {%- for i in range(1, iterations + 1) %}
    labels_{{ i }} as (
        select {{ edges }}.node, min(labels_{{ i - 1 }}.label) as label
        from {{ edges }}
        inner join labels_{{ i - 1 }} on {{ edges }}.neighbour = labels_{{ i - 1 }}.node
        group by {{ edges }}.node
    ),
    {%- endfor %}
    labels as (
        select * from labels_{{ iterations }}
    )
{%- endmacro %}
