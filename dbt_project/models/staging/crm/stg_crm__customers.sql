with

source as (

    select * from {{ source('crm', 'customers') }}

),

renamed as (

    select
        -- ids
        customer_id,

        -- pii (never selected into a published mart)
        lower(trim(email)) as email,
        first_name,
        last_name,
        phone,

        -- attributes
        upper(trim(country_code)) as country_code,
        lower(acquisition_source) as acquisition_source,
        lower(acquisition_medium) as acquisition_medium,
        accepts_marketing,

        -- timestamps
        signed_up_at,
        updated_at,
        _load_id,
        _loaded_at

    from source

)

select * from renamed
