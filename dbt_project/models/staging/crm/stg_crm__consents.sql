with

source as (

    select * from {{ source('crm', 'consents') }}

),

renamed as (

    select
        -- ids
        consent_event_id,
        customer_id,

        -- attributes
        lower(trim(channel)) as consent_channel,
        lower(trim(status)) as consent_status,
        lower(trim(source)) as consent_source,

        -- timestamps (UTC)
        changed_at,
        updated_at,
        _load_id,
        _loaded_at

    from source

)

select * from renamed
