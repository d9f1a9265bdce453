{# One row per resolved real customer with a CRM record: the contact details activation exports are made from
   (orchestration/activation/), kept in the build warehouse only. A person with several CRM records (merged
   duplicates) is reached through one of them: the latest updated record with a valid email, else the latest
   updated record. #}
with

customers as (

    select * from {{ ref('stg_crm__customers') }}
    where not is_test_account

),

resolved as (

    select * from {{ ref('int_customers_resolved') }}

),

ranked as (

    select
        resolved.customer_key,
        case when customers.is_valid_email then customers.email end as email,
        customers.phone,
        customers.country_code,
        row_number() over (
            partition by resolved.customer_key
            order by customers.is_valid_email desc, customers.updated_at desc, customers.customer_id asc
        ) as record_rank
    from customers
    inner join resolved on customers.customer_id = resolved.customer_id

),

final as (

    select
        customer_key,
        email,
        phone,
        country_code
    from ranked
    where record_rank = 1

)

select * from final
