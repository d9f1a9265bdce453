{# Every customer in mart_rfm appears in exactly one transition, landing in the segment mart_rfm gives them. #}
{{ config(meta={'dagster': {'ref': {'name': 'mart_rfm_transitions'}}}) }}

with

transitions as (

    select
        to_segment as rfm_segment,
        sum(customers) as customers
    from {{ ref('mart_rfm_transitions') }}
    group by to_segment

),

rfm as (

    select
        rfm_segment,
        count(*) as customers
    from {{ ref('mart_rfm') }}
    group by rfm_segment

)

select
    rfm.rfm_segment,
    rfm.customers as scored_customers,
    transitions.rfm_segment as to_segment,
    transitions.customers as transitioned_customers
from rfm
full outer join transitions on rfm.rfm_segment = transitions.rfm_segment
where rfm.customers is distinct from transitions.customers
