{# One row per CRM customer id (latest delivery). Emails normalised for matching; test/internal accounts flagged
   (excluded downstream, never dropped here). Duplicate *people* (one person, several ids) are resolved later in
   int_identity_graph, not here. #}
with

source as (

    select * from {{ source('crm', 'customers') }}

),

deduplicated as (

    {{ deduplicated('source', ['customer_id'], 'updated_at desc, _load_id desc') }}

),

renamed as (

    select
        -- ids
        trim(customer_id) as customer_id,

        -- pii (never selected into a published mart)
        {{ normalized_email('email') }} as email,
        trim(first_name) as first_name,
        trim(last_name) as last_name,
        trim(phone) as phone,

        -- flags
        coalesce(regexp_matches({{ normalized_email('email') }}, '^[^@\s]+@[^@\s]+\.[^@\s]+$'), false) as is_valid_email,  -- noqa: LT05
        {{ is_test_account(normalized_email('email'), 'first_name', 'last_name') }} as is_test_account,

        -- attributes
        upper(trim(country_code)) as country_code,
        lower(trim(acquisition_source)) as acquisition_source,
        lower(trim(acquisition_medium)) as acquisition_medium,
        accepts_marketing,

        -- timestamps (UTC)
        {{ to_utc('signed_up_at') }} as signed_up_at,
        {{ to_utc('updated_at') }} as updated_at,
        _load_id,
        _loaded_at

    from deduplicated

)

select * from renamed
