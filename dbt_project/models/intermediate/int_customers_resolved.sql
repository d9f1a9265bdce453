{# One row per CRM customer record with the resolved customer_key it belongs to (duplicates share one key). #}
with

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

identity_graph as (

    select * from {{ ref('int_identity_graph') }}
    where identifier_type = 'customer_id'

),

final as (

    select
        customers.customer_id,
        identity_graph.customer_key,
        identity_graph.primary_customer_id,
        customers.customer_id = identity_graph.primary_customer_id as is_primary_record,
        customers.is_test_account
    from customers
    inner join identity_graph on customers.customer_id = identity_graph.identifier

)

select * from final
