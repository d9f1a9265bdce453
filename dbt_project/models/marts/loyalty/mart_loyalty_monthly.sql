{# One row per calendar month x loyalty tier (every tier, every month from the programme's first month to the as-of
   month): members, retention, repeat purchase and redemption by tier. Rates come from macros/metrics.sql. #}
with

member_months as {{ read_in_place() }} (

    select * from {{ ref('int_loyalty_member_months') }}

),

tiers as (

    select * from {{ ref('loyalty_tiers') }}

),

with_previous as (

    select
        *,
        lag(loyalty_tier) over (partition by customer_key order by month_start) as previous_month_tier
    from member_months

),

at_month_end as (

    select
        month_start,
        loyalty_tier,
        count(*) as members,
        count(*) filter (where completed_orders_to_date >= 2) as repeat_purchasers,
        cast(sum(points_earned) as bigint) as points_earned,
        cast(sum(points_reversed) as bigint) as points_reversed,
        cast(sum(points_redeemed) as bigint) as points_redeemed,
        cast(sum(points_expired) as bigint) as points_expired,
        {# balance at the previous month end + earned - reversed this month = balance at this month end + redeemed
           + expired: reversed points were never available #}
        cast(sum(points_balance_at_month_end + points_redeemed + points_expired) as bigint) as points_available
    from member_months
    group by all

),

at_month_start as (

    select
        month_start,
        previous_month_tier as loyalty_tier,
        count(*) as members_at_month_start,
        count(*) filter (where completed_orders_in_month > 0) as retained_members
    from with_previous
    where previous_month_tier is not null
    group by all

),

grid as (

    select
        months.month_start,
        months.month_end_date,
        tiers.loyalty_tier,
        tiers.tier_rank
    from (
        select distinct
            month_start,
            month_end_date
        from member_months
    ) as months
    cross join tiers

),

final as (

    select
        grid.month_start,
        grid.month_end_date,
        grid.loyalty_tier,
        grid.tier_rank,
        coalesce(at_month_end.members, 0) as members,
        coalesce(at_month_end.repeat_purchasers, 0) as repeat_purchasers,
        round(at_month_end.repeat_purchasers / nullif(at_month_end.members, 0), 4) as repeat_purchase_rate,
        coalesce(at_month_start.members_at_month_start, 0) as members_at_month_start,
        coalesce(at_month_start.retained_members, 0) as retained_members,
        {{ retention_rate('at_month_start.retained_members', 'at_month_start.members_at_month_start') }}
            as retention_rate,
        coalesce(at_month_end.points_earned, 0) as points_earned,
        coalesce(at_month_end.points_reversed, 0) as points_reversed,
        coalesce(at_month_end.points_redeemed, 0) as points_redeemed,
        coalesce(at_month_end.points_expired, 0) as points_expired,
        coalesce(at_month_end.points_available, 0) as points_available,
        {{ redemption_rate('at_month_end.points_redeemed', 'at_month_end.points_available') }} as redemption_rate
    from grid
    left join at_month_end
        on grid.month_start = at_month_end.month_start and grid.loyalty_tier = at_month_end.loyalty_tier
    left join at_month_start
        on grid.month_start = at_month_start.month_start and grid.loyalty_tier = at_month_start.loyalty_tier

)

select * from final
