{# One row per loyalty member as of the as-of date: tier, points by type, balance, and the balance's value as a
   liability in the reporting currency (points x redemption value, at the as-of date's rate). The tier here is the
   programme's only tier: mart_customer_360 reads it from this mart. #}
with

ledger as (

    select * from {{ ref('int_loyalty_events_with_expiry') }}

),

member_months as (

    select * from {{ ref('int_loyalty_member_months') }}

),

points_summarized as (

    select
        customer_key,
        min(event_date) as first_activity_date,
        max(event_date) filter (where event_type in ('earn', 'redeem')) as last_activity_date,
        coalesce(sum(points) filter (where event_type = 'earn'), 0) as points_earned,
        coalesce(-sum(points) filter (where event_type = 'reversal'), 0) as points_reversed,
        coalesce(-sum(points) filter (where event_type = 'redeem'), 0) as points_redeemed,
        coalesce(-sum(points) filter (where event_type = 'expire'), 0) as points_expired,
        coalesce(-sum(points) filter (where event_type = 'expire' and is_implied_by_rule), 0)
            as points_expired_by_rule,
        sum(points) as points_balance
    from ledger
    group by customer_key

),

current_month as (

    select * from member_months
    where month_end_date = {{ as_of_date() }}

),

final as (

    select
        points_summarized.customer_key,
        {{ as_of_date() }} as as_of_date,
        current_month.loyalty_tier,
        current_month.tier_rank,
        current_month.tier_points_trailing_365_days,
        points_summarized.first_activity_date,
        points_summarized.last_activity_date,
        cast(points_summarized.points_earned as bigint) as points_earned,
        cast(points_summarized.points_reversed as bigint) as points_reversed,
        cast(points_summarized.points_redeemed as bigint) as points_redeemed,
        cast(points_summarized.points_expired as bigint) as points_expired,
        cast(points_summarized.points_expired_by_rule as bigint) as points_expired_by_rule,
        cast(points_summarized.points_balance as bigint) as points_balance,
        case
            when points_summarized.points_balance > 0
                then cast(points_summarized.last_activity_date + to_days({{ var('loyalty_expiry_days') }}) as date)
        end as points_expire_on,
        {{ to_reporting_currency(
            'points_summarized.points_balance * ' ~ var('loyalty_redemption_block_value_usd')
            ~ ' / ' ~ var('loyalty_redemption_block_points'),
            "'USD'"
        ) }} as points_liability_reporting,
        {{ reporting_currency() }} as reporting_currency,
        current_month.completed_orders_to_date as completed_order_count,
        current_month.completed_orders_to_date >= 2 as is_repeat_purchaser
    from points_summarized
    inner join current_month on points_summarized.customer_key = current_month.customer_key
    {{ fx_join("'USD'", as_of_date()) }}

)

select * from final
