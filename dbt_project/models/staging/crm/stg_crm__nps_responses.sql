with

source as (

    select * from {{ source('crm', 'nps_responses') }}

),

renamed as (

    select
        -- ids
        response_id,
        customer_id,

        -- attributes
        lower(trim(survey)) as survey,

        -- numerics
        cast(score as integer) as nps_score,
        case
            when score >= 9 then 'promoter'
            when score >= 7 then 'passive'
            else 'detractor'
        end as nps_category,

        -- timestamps (UTC)
        responded_at,
        updated_at,
        _load_id,
        _loaded_at

    from source

)

select * from renamed
