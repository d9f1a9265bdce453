{# One row per customer and audience channel the customer may be reached on: the consented activation table, the
   only person-level output marketing tools read (aggregate_reporting_rule). email needs email consent, sms SMS
   consent, ad_platforms (customer-match / retargeting uploads) ad-personalisation consent (none after a CCPA
   "do not sell or share" opt-out). Segment and scores only with profiling consent. #}
with

customers as {{ read_in_place() }} (

    select * from {{ ref('mart_customer_360') }}

),

clv_ranked as (

    {# Deciles over every customer with a CLV (the ranking is an aggregate over all), 10 = the most valuable. #}
    select
        customer_key,
        ntile(10) over (order by predicted_clv_12_months_reporting, customer_key) as clv_decile
    from customers
    where predicted_clv_12_months_reporting is not null

),

audience_members as (

    select
        customer_key,
        'email' as audience_channel
    from customers
    where has_email_consent
    union all
    select
        customer_key,
        'sms' as audience_channel
    from customers
    where has_sms_consent
    union all
    select
        customer_key,
        'ad_platforms' as audience_channel
    from customers
    where has_ad_personalisation_consent

),

final as (

    select
        audience_members.customer_key,
        audience_members.audience_channel,
        customers.has_profiling_consent,
        case when customers.has_profiling_consent then customers.rfm_segment end as rfm_segment,
        case when customers.has_profiling_consent then customers.lifecycle_stage end as lifecycle_stage,
        case when customers.has_profiling_consent then customers.churn_risk end as churn_risk,
        case when customers.has_profiling_consent then clv_ranked.clv_decile end as clv_decile,
        customers.consent_updated_at
    from audience_members
    inner join customers on audience_members.customer_key = customers.customer_key
    left join clv_ranked on audience_members.customer_key = clv_ranked.customer_key

)

select * from final
