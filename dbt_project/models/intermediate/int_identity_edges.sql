{# The identity graph's edges: one row per directed edge of the symmetric graph of int_identity_graph's linking
   rules (see that model's header), both directions of every link and a self-loop per identifier, so an identifier
   without links is still a node. Identifiers are graph node ids (macro identity_node). A table of its own because
   int_identity_graph reads it several times (degrees, pruning, every propagation round). The events are read as
   their devices' distinct identifier combinations (int_device_identifiers, incremental), which every rule reads. #}
with

customers as {{ read_in_place() }} (

    select * from {{ ref('stg_crm__customers') }}

),

device_identifiers as {{ read_in_place() }} (

    select * from {{ ref('int_device_identifiers') }}

),

device_logins as (

    -- who each device logged in as; the person by rule 1 is the CRM email (or the id itself without one)
    select distinct
        device_identifiers.user_pseudo_id,
        device_identifiers.customer_id as user_id,
        coalesce(customers.email, device_identifiers.customer_id) as person
    from device_identifiers
    left join customers on device_identifiers.customer_id = customers.customer_id
    where device_identifiers.customer_id is not null

),

device_person_counts as (

    select
        user_pseudo_id,
        count(distinct person) as person_count
    from device_logins
    group by user_pseudo_id

),

single_person_devices as (

    select
        device_logins.user_pseudo_id,
        device_logins.user_id
    from device_logins
    inner join device_person_counts on device_logins.user_pseudo_id = device_person_counts.user_pseudo_id
    where device_person_counts.person_count = 1

),

pairs as (

    -- rule 1
    select
        {{ identity_node('customer_id', 'customer_id') }} as node,
        {{ identity_node('email', 'email') }} as neighbour
    from customers
    where email is not null

    union all
    -- rule 2 (only user_ids that are real CRM ids; others stay their own node)
    select
        {{ identity_node('user_id', 'user_ids.customer_id') }} as node,
        {{ identity_node('customer_id', 'customers.customer_id') }} as neighbour
    from (
        select distinct customer_id from device_identifiers
        where customer_id is not null
    ) as user_ids
    inner join customers on user_ids.customer_id = customers.customer_id

    union all
    -- rule 3
    select
        {{ identity_node('user_pseudo_id', 'user_pseudo_id') }} as node,
        {{ identity_node('user_id', 'user_id') }} as neighbour
    from single_person_devices

    -- rule 4
    {%- for platform in var('ad_platforms') %}
        union all
        select distinct
            {{ identity_node('user_pseudo_id', 'user_pseudo_id') }} as node,
            {{ identity_node(platform.click_id, platform.click_id) }} as neighbour
        from device_identifiers
        where {{ platform.click_id }} is not null
    {% endfor %}

),

nodes as (

    select {{ identity_node('customer_id', 'customer_id') }} as node from customers
    union
    select {{ identity_node('user_pseudo_id', 'user_pseudo_id') }} from device_identifiers
    union
    select {{ identity_node('user_id', 'customer_id') }} from device_identifiers
    where customer_id is not null
    union
    select node from pairs
    union
    select neighbour from pairs

),

edges as (

    select
        node,
        neighbour
    from pairs
    union
    select
        neighbour as node,
        node as neighbour
    from pairs
    union
    select
        node,
        node as neighbour
    from nodes

)

select
    node,
    neighbour
from edges
