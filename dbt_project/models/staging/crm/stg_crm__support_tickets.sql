with

source as (

    select * from {{ source('crm', 'support_tickets') }}

),

renamed as (

    select
        -- ids
        ticket_id,
        customer_id,

        -- attributes
        lower(trim(channel)) as ticket_channel,
        lower(trim(category)) as ticket_category,
        lower(trim(priority)) as ticket_priority,
        lower(trim(status)) as ticket_status,

        -- numerics
        cast(csat_score as integer) as csat_score,

        -- timestamps (UTC)
        created_at,
        first_response_at,
        resolved_at,
        updated_at,
        _load_id,
        _loaded_at

    from source

)

select * from renamed
