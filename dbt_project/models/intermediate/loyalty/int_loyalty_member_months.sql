{{
    config(
        materialized='incremental',
        unique_key=['customer_key', 'month_start'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_stale_member_months() }}",
    )
}}
{# One row per loyalty member per calendar month from the month of their first ledger entry to the as-of month:
   the tier held at the month's end (the as-of date for the current month), the month's points by type, the
   balance at the month's end and completed orders. Tiers come from points earned less points reversed (a refunded
   order does not count) in the trailing `loyalty_tier_window_days` days, matched to the loyalty_tiers seed. A
   reversal counts from the day it happens, in the window of the earn it takes back: once that earn has left the
   window so has its reversal (else points earned before the window would be subtracted from points earned inside it,
   and a member whose refunded order was earned just before the window would fall below every tier).

   Incremental: a month's row depends only on the member's ledger entries and completed orders dated up to the
   month's end, and on the tier rules. Each row keeps a fingerprint of the inputs dated in its month (the first month
   also of the orders before it) and of the rules: month_inputs_hash, macro set_hash. The months before the previous
   run's as-of month (the carry month) are final; a member whose fingerprints of those months are all unchanged keeps
   them, and only their months from the carry month on are computed again, from opening sums (balance, tier points,
   orders) of everything before. Every other member (an entry or order in the past, late or re-keyed, a refund, a
   merged customer, changed rules) has all their months computed again. The pre-hook (macro
   delete_stale_member_months) deletes the rows no run writes again: months after the as-of month (a run as of an
   earlier day), months before a member's first entry, members no longer in the ledger. A table built before the
   fingerprint existed is computed again whole, once. #}
{%- set carry_only = is_incremental_with('month_inputs_hash') %}
{%- set as_of_month = "cast(date_trunc('month', " ~ as_of_date() ~ ") as date)" %}

with

ledger as {{ read_in_place() }} (

    select * from {{ ref('int_loyalty_events_with_expiry') }}

),

orders as {{ read_in_place() }} (

    select * from {{ ref('int_orders_converted') }}
    where not is_refunded
        and order_date <= {{ as_of_date() }}

),

tiers as {{ read_in_place() }} (

    select * from {{ ref('loyalty_tiers') }}

),

members as (

    select
        customer_key,
        cast(date_trunc('month', min(event_date)) as date) as first_month
    from ledger
    group by customer_key

),

member_inputs as (

    -- every input a member's months are computed from, dated, as one hash each
    select
        customer_key,
        event_date as input_date,
        {{ values_hash(['loyalty_event_id', 'event_type', 'points', 'order_id', 'event_date']) }} as input_hash
    from ledger
    union all
    select
        orders.customer_key,
        orders.order_date as input_date,
        {{ values_hash(['orders.order_id', 'orders.order_date']) }} as input_hash
    from orders
    inner join members on orders.customer_key = members.customer_key

),

rules as (

    -- the tier rules every month depends on: a changed threshold or window computes every member's months again
    select {{ values_hash([set_hash(values_hash(['loyalty_tier', 'tier_rank', 'min_points_trailing_365_days'])),
        var('loyalty_tier_window_days')]) }} as rules_hash
    from tiers

),

month_inputs as (

    -- one fingerprint per member and month of the inputs dated in it (orders before the first month in the first)
    select
        member_inputs.customer_key,
        greatest(cast(date_trunc('month', member_inputs.input_date) as date), members.first_month) as month_start,
        {{ values_hash([set_hash('member_inputs.input_hash'), 'any_value(rules.rules_hash)']) }} as month_inputs_hash
    from member_inputs
    inner join members on member_inputs.customer_key = members.customer_key
    cross join rules
    group by all

),

{% if carry_only %}
{%- set carry_month = "least((select max(month_start) from " ~ this ~ "), " ~ as_of_month ~ ")" %}
{%- set month_fingerprint = "case when month_inputs_hash is not null then "
    ~ values_hash(['month_start', 'month_inputs_hash']) ~ " end" %}
previous_fingerprints as (

    select
        customer_key,
        {{ set_hash(month_fingerprint) }} as fingerprint
    from {{ this }}
    where month_start < {{ carry_month }}
    group by customer_key

),

current_fingerprints as (

    select
        customer_key,
        {{ set_hash(month_fingerprint) }} as fingerprint
    from month_inputs
    where month_start < {{ carry_month }}
    group by customer_key

),

unchanged as (

    -- members whose inputs before the carry month are as they were: their months before it stand
    select previous_fingerprints.customer_key
    from previous_fingerprints
    inner join current_fingerprints
        on previous_fingerprints.customer_key = current_fingerprints.customer_key
        and previous_fingerprints.fingerprint = current_fingerprints.fingerprint

),
{% endif %}

member_starts as (

    -- the first month to compute: the member's first month, or the carry month of an unchanged member
    select
        members.customer_key,
        {%- if carry_only %}
            case
                when unchanged.customer_key is not null then greatest({{ carry_month }}, members.first_month)
                else members.first_month
            end as start_month
        {%- else %}
            members.first_month as start_month
        {%- endif %}
    from members
    {%- if carry_only %}
        left join unchanged on members.customer_key = unchanged.customer_key
    {%- endif %}

),

member_months as (

    select
        member_starts.customer_key,
        member_starts.start_month,
        cast(month_start as date) as month_start,
        least(cast(month_start + interval 1 month - interval 1 day as date), {{ as_of_date() }}) as month_end_date
    from member_starts,
        unnest(generate_series(member_starts.start_month, date_trunc('month', {{ as_of_date() }}), interval 1 month))
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

dated_amounts as (

    select
        customer_key,
        'ledger' as kind,
        event_date as dated_on,
        points
    from ledger
    union all
    select
        customer_key,
        'tier' as kind,
        change_date as dated_on,
        points
    from tier_point_changes
    union all
    select
        customer_key,
        'order' as kind,
        order_date as dated_on,
        0 as points
    from orders

),

openings as (

    -- everything before a member's first computed month: nothing but earlier orders for a member computed from
    -- their first month; the running sums up to the carry month for an unchanged member
    select
        member_starts.customer_key,
        coalesce(sum(dated_amounts.points) filter (where dated_amounts.kind = 'ledger'), 0) as opening_balance,
        coalesce(sum(dated_amounts.points) filter (where dated_amounts.kind = 'tier'), 0) as opening_tier_points,
        count(*) filter (where dated_amounts.kind = 'order') as opening_orders
    from member_starts
    left join dated_amounts
        on member_starts.customer_key = dated_amounts.customer_key
        and member_starts.start_month > dated_amounts.dated_on
    group by member_starts.customer_key

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
        cast(greatest(openings.opening_tier_points + coalesce(sum(tier_point_changes_in_month.points_change) over (
            partition by member_months.customer_key order by member_months.month_start
            rows between unbounded preceding and current row
        ), 0), 0) as bigint) as tier_points_trailing_365_days
    from member_months
    inner join openings on member_months.customer_key = openings.customer_key
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
        cast(openings.opening_balance + sum(coalesce(points_in_month.points_net, 0)) over (
            partition by member_months.customer_key order by member_months.month_start
        ) as bigint) as points_balance_at_month_end,
        coalesce(orders_in_month.completed_orders, 0) as completed_orders_in_month,
        cast(openings.opening_orders + sum(coalesce(orders_in_month.completed_orders, 0)) over (
            partition by member_months.customer_key order by member_months.month_start
        ) as bigint) as completed_orders_to_date,
        month_inputs.month_inputs_hash
    from member_months
    inner join openings on member_months.customer_key = openings.customer_key
    inner join tiered
        on member_months.customer_key = tiered.customer_key
        and member_months.month_start = tiered.month_start
    left join points_in_month
        on member_months.customer_key = points_in_month.customer_key
        and member_months.month_start = points_in_month.month_start
    left join orders_in_month
        on member_months.customer_key = orders_in_month.customer_key
        and member_months.month_start = orders_in_month.month_start
    left join month_inputs
        on member_months.customer_key = month_inputs.customer_key
        and member_months.month_start = month_inputs.month_start

)

select * from final
