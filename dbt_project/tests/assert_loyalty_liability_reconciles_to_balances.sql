{# The published liability is the members' balances valued at the point value at the as-of date's rate, converted
   once per member: the total may differ from (total balance x point value) by half a cent per member at most
   (per-member rounding). Every member of the ledger is in the mart (none lost to a missing rate). #}
{{ config(meta={'dagster': {'ref': {'name': 'mart_loyalty'}}}) }}

with

loyalty as (

    select
        sum(points_liability_reporting) as liability,
        sum(points_balance)
        * {{ var('loyalty_redemption_block_value_usd') }}
        / {{ var('loyalty_redemption_block_points') }} as balance_value_usd,
        count(*) as members
    from {{ ref('mart_loyalty') }}

),

members_in_ledger as (

    select count(distinct customer_key) as members
    from {{ ref('int_loyalty_events_with_expiry') }}

)

select
    loyalty.*,
    members_in_ledger.members as members_in_ledger
from loyalty
cross join members_in_ledger
{{ fx_join("'USD'", as_of_date()) }}
where abs(loyalty.liability - loyalty.balance_value_usd * {{ fx_rate_to_reporting("'USD'") }})
    > 0.005 * loyalty.members
    or loyalty.members != members_in_ledger.members
