{# One row per resolved customer per version (SCD2), from the customers_snapshot snapshot of dim_customer. Versions
   of a customer follow each other without gap or overlap (valid_to of one = valid_from of the next), except after a
   customer left dim_customer (hard_deletes: invalidate) and came back; assert_customer_history_is_contiguous. #}
with

snapshot as (

    select * from {{ ref('customers_snapshot') }}

),

final as (

    select
        dbt_scd_id as customer_version_key,
        customer_key,
        row_number() over (partition by customer_key order by dbt_valid_from) as version_number,
        crm_record_count,
        email_pseudonym,
        country_code,
        acquisition_source,
        acquisition_medium,
        accepts_marketing,
        signup_date,
        dbt_valid_from as valid_from,
        dbt_valid_to as valid_to,
        dbt_valid_to is null as is_current
    from snapshot

)

select * from final
