{# Identity resolution: one row per identifier (CRM customer id, normalised email, GA4 user_id, user_pseudo_id,
   and the click id of every declared ad platform, e.g. gclid) with the customer_key of the person it resolves to.

   Deterministic linking rules (an edge joins two identifiers of one person):
   1. a CRM customer id and its normalised email (so duplicate CRM records sharing an email merge);
   2. a GA4 user_id and the CRM customer id it equals (user_id is the CRM id when a visitor is logged in);
   3. a device (user_pseudo_id) and the user_ids it logged in as, if they all belong to one person by rule 1 (the
      same CRM email; a person with duplicate CRM records logs in under both ids), so a device shared by two people
      never merges them; its anonymous sessions are thereby stitched to that person;
   4. a click id (one per ad platform, var ad_platforms) and the device whose session carried it.
   Components come from min-label propagation; the key is the keyed pseudonym (HMAC, macro pseudonym) of the
   component's smallest CRM customer id, or of its smallest identifier when it has no CRM record (an anonymous
   visitor): an unkeyed hash of an id would be re-identifiable by hashing known ids. It is computed once per
   component, not per identifier. #}
with

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

events as (

    select * from {{ ref('stg_ga4__events') }}

),

device_logins as (

    -- who each device logged in as; the person by rule 1 is the CRM email (or the id itself without one)
    select distinct
        events.user_pseudo_id,
        events.customer_id as user_id,
        coalesce(customers.email, events.customer_id) as person
    from events
    left join customers on events.customer_id = customers.customer_id
    where events.customer_id is not null

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
        select distinct customer_id from events
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
        from events
        where {{ platform.click_id }} is not null
    {% endfor %}

),

nodes as (

    select {{ identity_node('customer_id', 'customer_id') }} as node from customers
    union
    select {{ identity_node('user_pseudo_id', 'user_pseudo_id') }} from events
    union
    select {{ identity_node('user_id', 'customer_id') }} from events
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

),

node_numbers as (

    -- numbered in node order, so the smallest number is the smallest node: propagation joins and compares integers
    -- instead of strings (M: 7.5 s -> 5.3 s), with the same components and minimum labels
    select
        node,
        row_number() over (order by node) as node_number
    from (select distinct node from edges) as distinct_nodes

),

numbered_edges as (

    select
        from_node.node_number as node,
        to_node.node_number as neighbour
    from edges
    inner join node_numbers as from_node on edges.node = from_node.node
    inner join node_numbers as to_node on edges.neighbour = to_node.node

),

{{ propagate_min_label('numbered_edges', var('identity_max_iterations')) }},

node_labels as (

    select
        nodes_named.node,
        labels_named.node as component_node
    from labels
    inner join node_numbers as nodes_named on labels.node = nodes_named.node_number
    inner join node_numbers as labels_named on labels.label = labels_named.node_number

),

component_keys as (

    select
        component_node,
        {{ pseudonym('keyed_identifier') }} as customer_key
    from (
        select distinct
            component_node,
            case
                when component_node like '1|customer_id|%' then substr(component_node, 15) else component_node
            end as keyed_identifier
        from node_labels
    ) as components

),

final as (

    select
        split_part(labelled.node, '|', 2) as identifier_type,
        substr(
            labelled.node, length(split_part(labelled.node, '|', 1)) + length(split_part(labelled.node, '|', 2)) + 3
        ) as identifier,
        component_keys.customer_key,
        case
            when labelled.component_node like '1|customer_id|%' then substr(labelled.component_node, 15)
        end as primary_customer_id,
        labelled.component_node like '1|customer_id|%' as is_known_customer,
        labelled.node as identity_node,
        labelled.component_node as component_label
    from node_labels as labelled
    inner join component_keys on labelled.component_node = component_keys.component_node

)

select * from final
