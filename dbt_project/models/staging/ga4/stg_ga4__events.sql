with

source as (

    select * from {{ source('ga4', 'events') }}

),

renamed as (

    select
        -- ids
        event_id,
        user_pseudo_id,
        user_id as customer_id,
        ga_session_id,
        transaction_id as order_id,

        -- attributes
        event_name,
        page_location,
        lower(traffic_source) as traffic_source,
        lower(traffic_medium) as traffic_medium,
        traffic_campaign as campaign_name,
        gclid,
        fbclid,

        -- timestamps (GA4 exports microseconds since epoch, UTC)
        make_timestamptz(event_timestamp) as event_at

    from source

)

select * from renamed
