{# One row per resolved real customer: the current consent per channel/purpose (email and SMS marketing, ad
   personalisation = CCPA sale/share, profiling), the one consent model every marketing-facing output reads.
   Rules (doc block consent_rules): the latest event on or before the as-of date over all of the person's merged CRM
   records wins; on a tie a withdrawal wins; no event means no consent. #}
with

customers_resolved as {{ read_in_place() }} (

    select * from {{ ref('int_customers_resolved') }}
    where not is_test_account

),

consents as (

    select
        customers_resolved.customer_key,
        consents.consent_event_id,
        consents.consent_channel,
        consents.consent_status,
        consents.changed_at
    from {{ ref('stg_crm__consents') }} as consents
    inner join customers_resolved on consents.customer_id = customers_resolved.customer_id
    where {{ reporting_date('consents.changed_at') }} <= {{ as_of_date() }}

),

latest_consents as (

    {{ deduplicated(
        'consents',
        ['customer_key', 'consent_channel'],
        "changed_at desc, case when consent_status = 'withdrawn' then 0 else 1 end, consent_event_id desc"
    ) }}

),

consents_pivoted as (

    select
        customer_key,
        bool_or(consent_channel = 'email' and consent_status = 'granted') as has_email_consent,
        bool_or(consent_channel = 'sms' and consent_status = 'granted') as has_sms_consent,
        bool_or(
            consent_channel = 'ad_personalisation' and consent_status = 'granted'
        ) as has_ad_personalisation_consent,
        bool_or(consent_channel = 'profiling' and consent_status = 'granted') as has_profiling_consent,
        bool_or(
            consent_channel = 'ad_personalisation' and consent_status = 'withdrawn'
        ) as has_opted_out_of_sale_or_share,
        max(changed_at) as consent_updated_at
    from latest_consents
    group by customer_key

),

customer_keys as (

    select distinct customer_key from customers_resolved

),

final as (

    select
        customer_keys.customer_key,
        coalesce(consents_pivoted.has_email_consent, false) as has_email_consent,
        coalesce(consents_pivoted.has_sms_consent, false) as has_sms_consent,
        coalesce(consents_pivoted.has_ad_personalisation_consent, false) as has_ad_personalisation_consent,
        coalesce(consents_pivoted.has_profiling_consent, false) as has_profiling_consent,
        coalesce(consents_pivoted.has_opted_out_of_sale_or_share, false) as has_opted_out_of_sale_or_share,
        consents_pivoted.consent_updated_at
    from customer_keys
    left join consents_pivoted on customer_keys.customer_key = consents_pivoted.customer_key

)

select * from final
