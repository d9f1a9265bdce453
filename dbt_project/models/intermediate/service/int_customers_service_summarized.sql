{# One row per resolved customer with any support ticket, NPS answer or consent event on or before the as-of date:
   support volume and speed, the latest NPS answer, and the current email / sms consent (the latest consent event
   per channel across the customer's merged CRM records; no event means never granted). #}
with

tickets as (

    select * from {{ ref('int_support_tickets_resolved') }}
    where created_date <= {{ as_of_date() }}

),

customers_resolved as (

    select * from {{ ref('int_customers_resolved') }}
    where not is_test_account

),

nps_responses as (

    select
        customers_resolved.customer_key,
        nps.*
    from {{ ref('stg_crm__nps_responses') }} as nps
    inner join customers_resolved on nps.customer_id = customers_resolved.customer_id
    where {{ reporting_date('nps.responded_at') }} <= {{ as_of_date() }}

),

consents as (

    select
        customers_resolved.customer_key,
        consents.*
    from {{ ref('stg_crm__consents') }} as consents
    inner join customers_resolved on consents.customer_id = customers_resolved.customer_id
    where {{ reporting_date('consents.changed_at') }} <= {{ as_of_date() }}

),

support_summarized as (

    select
        customer_key,
        count(*) as support_ticket_count,
        count(*) filter (where is_open) as open_support_ticket_count,
        cast(round(avg(csat_score), 2) as decimal(4, 2)) as average_csat_score,
        cast(
            percentile_cont(0.5) within group (order by first_response_hours) as decimal(10, 2)
        ) as median_first_response_hours
    from tickets
    group by customer_key

),

latest_nps as (

    {{ deduplicated('nps_responses', ['customer_key'], 'responded_at desc, response_id desc') }}

),

latest_consents as (

    {{ deduplicated('consents', ['customer_key', 'consent_channel'], 'changed_at desc, consent_event_id desc') }}

),

current_consents as (

    select
        customer_key,
        bool_or(consent_channel = 'email' and consent_status = 'granted') as has_email_consent,
        bool_or(consent_channel = 'sms' and consent_status = 'granted') as has_sms_consent
    from latest_consents
    group by customer_key

),

customer_keys as (

    select customer_key from support_summarized
    union
    select customer_key from latest_nps
    union
    select customer_key from current_consents

),

final as (

    select
        customer_keys.customer_key,
        coalesce(support_summarized.support_ticket_count, 0) as support_ticket_count,
        coalesce(support_summarized.open_support_ticket_count, 0) as open_support_ticket_count,
        support_summarized.average_csat_score,
        support_summarized.median_first_response_hours,
        latest_nps.nps_score as latest_nps_score,
        latest_nps.nps_category as latest_nps_category,
        {{ reporting_date('latest_nps.responded_at') }} as latest_nps_date,
        coalesce(current_consents.has_email_consent, false) as has_email_consent,
        coalesce(current_consents.has_sms_consent, false) as has_sms_consent
    from customer_keys
    left join support_summarized on customer_keys.customer_key = support_summarized.customer_key
    left join latest_nps on customer_keys.customer_key = latest_nps.customer_key
    left join current_consents on customer_keys.customer_key = current_consents.customer_key

)

select * from final
