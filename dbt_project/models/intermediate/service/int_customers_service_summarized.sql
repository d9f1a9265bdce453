{# One row per resolved customer with any support ticket or NPS answer on or before the as-of date: support volume
   and speed, and the latest NPS answer. (Consent is its own model: int_consents_summarized_to_customers.) #}
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

customer_keys as (

    select customer_key from support_summarized
    union
    select customer_key from latest_nps

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
        {{ reporting_date('latest_nps.responded_at') }} as latest_nps_date
    from customer_keys
    left join support_summarized on customer_keys.customer_key = support_summarized.customer_key
    left join latest_nps on customer_keys.customer_key = latest_nps.customer_key

)

select * from final
