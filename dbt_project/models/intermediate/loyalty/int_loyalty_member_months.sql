{# One row per loyalty member per calendar month from the month of their first ledger entry to the as-of month:
   the tier held at the month's end (the as-of date for the current month), the month's points by type, the
   balance at the month's end and completed orders. Tiers come from points earned less points reversed (a refunded
   order does not count) in the trailing `loyalty_tier_window_days` days, matched to the loyalty_tiers seed. A
   reversal counts from the day it happens, in the window of the earn it takes back: once that earn has left the
   window so has its reversal (else points earned before the window would be subtracted from points earned inside it,
   and a member whose refunded order was earned just before the window would fall below every tier). #}
with

ledger as (

    select * from {{ ref('int_loyalty_events_with_expiry') }}

),

orders as (

    select * from {{ ref('int_orders_converted') }}
    where not is_refunded
        and order_date <= {{ as_of_date() }}

),

tiers as (

    select * from {{ ref('loyalty_tiers') }}

),

members as (

    select
        customer_key,
        cast(date_trunc('month', min(event_date)) as date) as first_month
    from ledger
    group by customer_key

),

member_months as (

    select
        members.customer_key,
        cast(month_start as date) as month_start,
        least(cast(month_start + interval 1 month - interval 1 day as date), {{ as_of_date() }}) as month_end_date
    from members,
        unnest(generate_series(members.first_month, date_trunc('month', {{ as_of_date() }}), interval 1 month))
            as months (month_start)

),

earn_dates as (

    select
        customer_key,
        order_id,
        min(event_date) as earned_date
    from ledger
    where event_type = 'earn' and order_id is not null
    group by all

),

tier_entries as (

    select
        ledger.customer_key,
        ledger.event_date,
        coalesce(earn_dates.earned_date, ledger.event_date) as window_date,
        ledger.points
    from ledger
    left join earn_dates
        on ledger.event_type = 'reversal'
        and ledger.customer_key = earn_dates.customer_key
        and ledger.order_id = earn_dates.order_id
    where ledger.event_type in ('earn', 'reversal')

),

tier_point_changes as (

    {# Each entry counts towards the tier of every month end from its own date until `loyalty_tier_window_days` after
       its window date: +points on the first day, -points on the day it leaves the window (none if it never enters:
       a reversal dated after its earn has left). Summed per month and run along the member's months below, these
       give each month end the window's points without joining every month to every entry. #}
    select
        customer_key,
        event_date as change_date,
        points
    from tier_entries
    union all
    select
        customer_key,
        cast(window_date + to_days({{ var('loyalty_tier_window_days') }}) as date) as change_date,
        -points as points
    from tier_entries
    where window_date + to_days({{ var('loyalty_tier_window_days') }}) > event_date

),

tier_point_changes_in_month as (

    select
        customer_key,
        cast(date_trunc('month', change_date) as date) as month_start,
        sum(points) as points_change
    from tier_point_changes
    where change_date <= {{ as_of_date() }}
    group by all

),

trailing_earned as (

    select
        member_months.customer_key,
        member_months.month_start,
        -- never below 0, the lowest tier's threshold: a reversal whose earn is not in the ledger keeps the member
        cast(greatest(coalesce(sum(tier_point_changes_in_month.points_change) over (
            partition by member_months.customer_key order by member_months.month_start
            rows between unbounded preceding and current row
        ), 0), 0) as bigint) as tier_points_trailing_365_days
    from member_months
    left join tier_point_changes_in_month
        on member_months.customer_key = tier_point_changes_in_month.customer_key
        and member_months.month_start = tier_point_changes_in_month.month_start

),

tiered as (

    select
        trailing_earned.customer_key,
        trailing_earned.month_start,
        trailing_earned.tier_points_trailing_365_days,
        arg_max(tiers.loyalty_tier, tiers.tier_rank) as loyalty_tier,
        max(tiers.tier_rank) as tier_rank
    from trailing_earned
    inner join tiers on trailing_earned.tier_points_trailing_365_days >= tiers.min_points_trailing_365_days
    group by all

),

points_in_month as (

    select
        customer_key,
        cast(date_trunc('month', event_date) as date) as month_start,
        coalesce(sum(points) filter (where event_type = 'earn'), 0) as points_earned,
        coalesce(-sum(points) filter (where event_type = 'reversal'), 0) as points_reversed,
        coalesce(-sum(points) filter (where event_type = 'redeem'), 0) as points_redeemed,
        coalesce(-sum(points) filter (where event_type = 'expire'), 0) as points_expired,
        sum(points) as points_net
    from ledger
    group by all

),

orders_in_month as (

    select
        customer_key,
        cast(date_trunc('month', order_date) as date) as month_start,
        count(*) as completed_orders
    from orders
    group by all

),

orders_before_membership as (

    select
        orders.customer_key,
        count(*) as completed_orders
    from orders
    inner join members on orders.customer_key = members.customer_key
    where orders.order_date < members.first_month
    group by all

),

final as (

    select
        member_months.customer_key,
        member_months.month_start,
        member_months.month_end_date,
        tiered.loyalty_tier,
        tiered.tier_rank,
        tiered.tier_points_trailing_365_days,
        cast(coalesce(points_in_month.points_earned, 0) as bigint) as points_earned,
        cast(coalesce(points_in_month.points_reversed, 0) as bigint) as points_reversed,
        cast(coalesce(points_in_month.points_redeemed, 0) as bigint) as points_redeemed,
        cast(coalesce(points_in_month.points_expired, 0) as bigint) as points_expired,
        cast(sum(coalesce(points_in_month.points_net, 0)) over (
            partition by member_months.customer_key order by member_months.month_start
        ) as bigint) as points_balance_at_month_end,
        coalesce(orders_in_month.completed_orders, 0) as completed_orders_in_month,
        cast(sum(coalesce(orders_in_month.completed_orders, 0)) over (
            partition by member_months.customer_key order by member_months.month_start
        ) + coalesce(orders_before_membership.completed_orders, 0) as bigint) as completed_orders_to_date
    from member_months
    inner join tiered
        on member_months.customer_key = tiered.customer_key
        and member_months.month_start = tiered.month_start
    left join points_in_month
        on member_months.customer_key = points_in_month.customer_key
        and member_months.month_start = points_in_month.month_start
    left join orders_in_month
        on member_months.customer_key = orders_in_month.customer_key
        and member_months.month_start = orders_in_month.month_start
    left join orders_before_membership
        on member_months.customer_key = orders_before_membership.customer_key

)

select * from final
