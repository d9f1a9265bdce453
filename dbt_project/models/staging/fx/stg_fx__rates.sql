with

source as (

    select * from {{ source('fx', 'rates') }}

),

renamed as (

    select
        -- ids
        cast(rate_date as date) as rate_date,
        upper(trim(currency)) as currency,
        upper(trim(base_currency)) as base_currency,

        -- numerics
        cast(rate_to_base as double) as rate_to_base,

        -- lineage
        rate_source,
        case when rate_source = 'ecb' then 2 else 1 end as source_priority

    from source

)

select * from renamed
