{# The loyalty views agree: the as-of month of mart_loyalty_monthly counts exactly mart_loyalty's members per tier,
   every month's tier migrations add up to that month's members, and mart_customer_360 shows each member's balance. #}
{{ config(meta={'dagster': {'ref': {'name': 'mart_customer_360'}}}) }}

with

latest_month as (

    select
        loyalty_tier,
        members
    from {{ ref('mart_loyalty_monthly') }}
    where month_end_date = {{ as_of_date() }}

),

members as (

    select
        loyalty_tier,
        count(*) as members
    from {{ ref('mart_loyalty') }}
    group by loyalty_tier

),

migrations as (

    select
        month_start,
        to_tier as loyalty_tier,
        sum(members) as members
    from {{ ref('mart_loyalty_tier_migrations') }}
    group by all

),

monthly as (

    select
        month_start,
        loyalty_tier,
        members
    from {{ ref('mart_loyalty_monthly') }}
    where members > 0

)

select
    'as-of month' as problem,
    latest_month.loyalty_tier,
    latest_month.members,
    members.members as expected
from latest_month
left join members on latest_month.loyalty_tier = members.loyalty_tier
where latest_month.members != coalesce(members.members, 0)
union all
select
    'migrations' as problem,
    monthly.loyalty_tier,
    monthly.members,
    migrations.members as expected
from monthly
full outer join migrations
    on monthly.month_start = migrations.month_start and monthly.loyalty_tier = migrations.loyalty_tier
where monthly.members is distinct from migrations.members
union all
select
    'customer 360 balance' as problem,
    mart_loyalty.loyalty_tier,
    c360.loyalty_points_balance as members,
    mart_loyalty.points_balance as expected
from {{ ref('mart_loyalty') }} as mart_loyalty
inner join {{ ref('mart_customer_360') }} as c360 on mart_loyalty.customer_key = c360.customer_key
where c360.loyalty_points_balance != mart_loyalty.points_balance
