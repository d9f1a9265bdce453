{# The loyalty ledger to the as-of date, completed with the expiries the programme rule implies but the CRM has not
   delivered: the whole balance expires `loyalty_expiry_days` after the member's last earn/redeem activity.
   Activity periods are runs of earn/redeem events less than the expiry span apart; a period ends with its balance
   expiring. Delivered expire events and refund reversals (a reversal is not activity: it follows its order's earn
   within the refund window) count towards the period they follow, so a CRM that records expiries itself gets no
   implied rows, one that records none gets them all, and a reversed balance does not expire again. Members are resolved customers (customer_key):
   the ledger is int_loyalty_events_resolved, so merged CRM duplicates share one balance and test accounts are excluded. #}
with

events as {{ read_in_place() }} (

    select * from {{ ref('int_loyalty_events_resolved') }}
    where event_date <= {{ as_of_date() }}

),

activities as (

    select
        *,
        lag(occurred_at) over (partition by customer_key order by occurred_at, loyalty_event_id) as previous_activity_at
    from events
    where event_type in ('earn', 'redeem')

),

periods as (

    select
        *,
        sum(
            case
                when previous_activity_at is null
                    or occurred_at >= previous_activity_at + to_days({{ var('loyalty_expiry_days') }}) then 1
                else 0
            end
        ) over (partition by customer_key order by occurred_at, loyalty_event_id) as activity_period
    from activities

),

period_bounds as (

    select
        customer_key,
        activity_period,
        min(occurred_at) as period_started_at,
        max(occurred_at) + to_days({{ var('loyalty_expiry_days') }}) as expires_at,
        sum(points) as activity_points
    from periods
    group by customer_key, activity_period

),

delivered_adjustments as (

    {# Each delivered expire or reversal event belongs to the latest activity period that started before it. #}
    select
        events.loyalty_event_id,
        events.customer_key,
        max(period_bounds.activity_period) as activity_period,
        any_value(events.points) as adjusted_points
    from events
    inner join period_bounds
        on events.customer_key = period_bounds.customer_key
        and events.occurred_at >= period_bounds.period_started_at
    where events.event_type in ('expire', 'reversal')
    group by events.loyalty_event_id, events.customer_key

),

delivered_adjustments_per_period as (

    select
        customer_key,
        activity_period,
        sum(adjusted_points) as adjusted_points
    from delivered_adjustments
    group by customer_key, activity_period

),

period_residuals as (

    select
        period_bounds.customer_key,
        period_bounds.activity_period,
        period_bounds.expires_at,
        period_bounds.activity_points + coalesce(delivered_adjustments_per_period.adjusted_points, 0)
            as residual_points
    from period_bounds
    left join delivered_adjustments_per_period
        on period_bounds.customer_key = delivered_adjustments_per_period.customer_key
        and period_bounds.activity_period = delivered_adjustments_per_period.activity_period

),

implied_expiries as (

    select
        'implied-expiry|' || customer_key || '|' || cast(activity_period as varchar) as loyalty_event_id,
        customer_key,
        'expire' as event_type,
        cast(-residual_points as integer) as points,
        cast(null as varchar) as order_id,
        expires_at as occurred_at,
        true as is_implied_by_rule
    from period_residuals
    where residual_points > 0
        and {{ reporting_date('expires_at') }} <= {{ as_of_date() }}

),

unioned as (

    select
        loyalty_event_id,
        customer_key,
        event_type,
        points,
        order_id,
        occurred_at,
        false as is_implied_by_rule
    from events
    union all
    select * from implied_expiries

),

final as (

    select
        *,
        {{ reporting_date('occurred_at') }} as event_date
    from unioned

)

select * from final
