{# One row per resolved customer (customer_key) with at least one real CRM record; duplicate CRM records of one
   person are merged (attributes from the primary, i.e. smallest, customer id; signup is the earliest), test and
   internal accounts excluded. No raw PII and no raw id: the email only as a keyed pseudonym, the CRM id only inside
   customer_key (its keyed pseudonym). #}
with

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

customers_resolved as (

    select * from {{ ref('int_customers_resolved') }}

),

consents as (

    select * from {{ ref('int_consents_summarized_to_customers') }}

),

records as (

    select
        customers.*,
        customers_resolved.customer_key,
        customers_resolved.is_primary_record
    from customers
    inner join customers_resolved on customers.customer_id = customers_resolved.customer_id

),

merged as (

    select
        customer_key,
        count(*) as crm_record_count,
        min(signed_up_at) as signed_up_at,
        max(updated_at) as updated_at,
        bool_and(is_test_account) as is_test_account
    from records
    group by customer_key

),

final as (

    select
        merged.customer_key,
        merged.crm_record_count,
        {{ pseudonym('primary_record.email') }} as email_pseudonym,
        primary_record.country_code,
        primary_record.acquisition_source,
        primary_record.acquisition_medium,
        {{ channel_key(
            'coalesce(primary_record.acquisition_source, ' ~ unknown_channel() ~ ')',
            'coalesce(primary_record.acquisition_medium, ' ~ unknown_channel() ~ ')'
        ) }} as acquisition_channel_key,
        {# Consent, not the CRM's signup checkbox (consent_rules); the model has a row for every customer here. #}
        consents.has_email_consent or consents.has_sms_consent as accepts_marketing,
        merged.signed_up_at,
        {{ reporting_date('merged.signed_up_at') }} as signup_date,
        {# A consent change is a change of the customer: the SCD2 snapshot then keeps accepts_marketing's history. #}
        greatest(merged.updated_at, consents.consent_updated_at) as updated_at
    from merged
    inner join records as primary_record
        on merged.customer_key = primary_record.customer_key
        and primary_record.is_primary_record
    left join consents on merged.customer_key = consents.customer_key
    where not merged.is_test_account

)

select * from final
