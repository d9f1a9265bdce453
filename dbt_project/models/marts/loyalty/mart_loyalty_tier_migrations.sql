{# One row per month x (tier at the previous month's end, tier at this month's end) pair that occurred. #}
with

member_months as (

    select * from {{ ref('int_loyalty_member_months') }}

),

with_previous as (

    select
        *,
        lag(loyalty_tier) over (partition by customer_key order by month_start) as previous_month_tier,
        lag(tier_rank) over (partition by customer_key order by month_start) as previous_tier_rank
    from member_months

),

final as (

    select
        month_start,
        coalesce(previous_month_tier, '(new member)') as from_tier,
        loyalty_tier as to_tier,
        case
            when previous_tier_rank is null then 'joined'
            when tier_rank > previous_tier_rank then 'upgrade'
            when tier_rank < previous_tier_rank then 'downgrade'
            else 'unchanged'
        end as migration_type,
        count(*) as members
    from with_previous
    group by all

)

select * from final
