{# One row per resolved customer: identity-merged CRM records, orders, revenue, acquisition, web engagement
   (anonymous sessions stitched once the device logged in), loyalty, RFM, lifecycle stage, CLV, support, NPS and
   current consent per channel and purpose (int_consents_summarized_to_customers). No raw PII. Analytics over every
   customer (aggregate_reporting_rule): marketing tools read mart_audiences, never this table. #}
with

customers as (

    select * from {{ ref('dim_customer') }}

),

channels as {{ read_in_place() }} (

    select * from {{ ref('dim_channel') }}

),

customer_orders as (

    select * from {{ ref('int_orders_summarized_to_customers') }}

),

sessions as {{ read_in_place() }} (

    select * from {{ ref('fct_web_sessions') }}

),

first_touch as (

    select * from {{ ref('int_customers_first_touch') }}

),

loyalty as (

    {# The loyalty programme's one view of a member (tier, balance with implied expiries), so the two marts agree. #}
    select * from {{ ref('mart_loyalty') }}

),

rfm as (

    select * from {{ ref('mart_rfm') }}

),

clv as (

    select * from {{ ref('mart_clv') }}

),

service as (

    select * from {{ ref('int_customers_service_summarized') }}

),

consents as (

    select * from {{ ref('int_consents_summarized_to_customers') }}

),

sessions_to_date as (

    select * from sessions
    where customer_key is not null
        and session_date <= {{ as_of_date() }}

),

sessions_summarized as (

    select
        customer_key,
        count(*) as web_session_count,
        count(*) filter (where session_date > {{ as_of_date() }} - interval 30 day) as web_sessions_last_30_days,
        count(*) filter (where session_date > {{ as_of_date() }} - interval 90 day) as web_sessions_last_90_days,
        min(session_date) as first_session_date,
        max(session_date) as last_session_date
    from sessions_to_date
    group by customer_key

),

first_sessions as (

    {# The acquiring session is the first touch of attribution (int_customers_first_touch): one definition. #}
    select
        first_touch.customer_key,
        sessions.channel_key,
        sessions.campaign_key,
        sessions.campaign_name
    from first_touch
    inner join sessions on first_touch.first_session_key = sessions.session_key

),

final as (

    select
        customers.customer_key,
        customers.crm_record_count,
        customers.email_pseudonym,
        customers.country_code,
        customers.acquisition_source,
        customers.acquisition_medium,
        coalesce(first_sessions.channel_key, customers.acquisition_channel_key) as acquisition_channel_key,
        coalesce(first_session_channel.channel, crm_channel.channel) as acquisition_channel,
        first_sessions.campaign_key as acquisition_campaign_key,
        first_sessions.campaign_name as acquisition_campaign_name,
        customers.accepts_marketing,
        customers.signup_date,
        customer_orders.first_order_date,
        customer_orders.latest_order_date,
        customer_orders.last_order_date,
        coalesce(customer_orders.order_count, 0) as order_count,
        coalesce(customer_orders.completed_order_count, 0) as completed_order_count,
        coalesce(customer_orders.refunded_order_count, 0) as refunded_order_count,
        coalesce(customer_orders.refunded_revenue_reporting, 0) as refunded_revenue_reporting,
        coalesce(customer_orders.net_revenue_reporting, 0) as net_revenue_reporting,
        {{ average_order_value('customer_orders.net_revenue_reporting', 'customer_orders.completed_order_count') }}
            as average_order_value_reporting,
        {{ reporting_currency() }} as reporting_currency,
        coalesce(sessions_summarized.web_session_count, 0) as web_session_count,
        coalesce(sessions_summarized.web_sessions_last_30_days, 0) as web_sessions_last_30_days,
        coalesce(sessions_summarized.web_sessions_last_90_days, 0) as web_sessions_last_90_days,
        sessions_summarized.first_session_date,
        sessions_summarized.last_session_date,
        coalesce(loyalty.points_balance, 0) as loyalty_points_balance,
        coalesce(loyalty.points_earned, 0) as loyalty_points_earned,
        loyalty.loyalty_tier,
        rfm.rfm_cell,
        rfm.rfm_segment,
        case
            when customer_orders.last_order_date is null then 'prospect'
            when {{ dbt.datediff('customer_orders.first_completed_order_date', as_of_date(), 'day') }} <= {{ var('lifecycle_new_days') }}  -- noqa: LT05
                then 'new'
            when {{ dbt.datediff('customer_orders.last_order_date', as_of_date(), 'day') }} <= {{ var('lifecycle_active_days') }}  -- noqa: LT05
                and {{ dbt.datediff('customer_orders.previous_order_date', 'customer_orders.last_order_date', 'day') }}  -- noqa: LT05
                > {{ var('lifecycle_lapsed_days') }}
                then 'reactivated'
            when {{ dbt.datediff('customer_orders.last_order_date', as_of_date(), 'day') }} <= {{ var('lifecycle_active_days') }}  -- noqa: LT05
                then 'active'
            when {{ dbt.datediff('customer_orders.last_order_date', as_of_date(), 'day') }} <= {{ var('lifecycle_lapsed_days') }}  -- noqa: LT05
                then 'at_risk'
            else 'lapsed'
        end as lifecycle_stage,
        clv.probability_alive,
        clv.churn_risk,
        clv.predicted_clv_12_months_reporting,
        coalesce(service.support_ticket_count, 0) as support_ticket_count,
        coalesce(service.open_support_ticket_count, 0) as open_support_ticket_count,
        service.average_csat_score,
        service.median_first_response_hours,
        service.latest_nps_score,
        service.latest_nps_category,
        service.latest_nps_date,
        {# The consent model has a row, defaults applied, for every customer here (the not_null tests hold it). #}
        consents.has_email_consent,
        consents.has_sms_consent,
        consents.has_ad_personalisation_consent,
        consents.has_profiling_consent,
        consents.has_opted_out_of_sale_or_share,
        consents.consent_updated_at
    from customers
    left join customer_orders on customers.customer_key = customer_orders.customer_key
    left join sessions_summarized on customers.customer_key = sessions_summarized.customer_key
    left join first_sessions on customers.customer_key = first_sessions.customer_key
    left join channels as first_session_channel on first_sessions.channel_key = first_session_channel.channel_key
    left join channels as crm_channel on customers.acquisition_channel_key = crm_channel.channel_key
    left join loyalty on customers.customer_key = loyalty.customer_key
    left join rfm on customers.customer_key = rfm.customer_key
    left join clv on customers.customer_key = clv.customer_key
    left join service on customers.customer_key = service.customer_key
    left join consents on customers.customer_key = consents.customer_key

)

select * from final
