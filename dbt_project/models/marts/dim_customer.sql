with

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

final as (

    select
        {{ dbt.hash('customer_id') }} as customer_key,
        customer_id,
        {{ hash_pii('email') }} as email_sha256,
        country_code,
        acquisition_source,
        acquisition_medium,
        accepts_marketing,
        signed_up_at,
        {{ reporting_date('signed_up_at') }} as signup_date
    from customers

)

select * from final
