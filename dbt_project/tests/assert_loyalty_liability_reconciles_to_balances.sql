{# The published liability is the members' balances valued at the point value, converted once per member: the total
   may differ from (total balance x point value) by half a cent per member at most (per-member rounding). #}
with

loyalty as (

    select
        sum(points_liability_reporting) as liability,
        sum(points_balance) * {{ var('loyalty_redemption_block_value_usd') }} / {{ var('loyalty_redemption_block_points') }}
            as balance_value_usd,
        count(*) as members
    from {{ ref('mart_loyalty') }}

),

fx_rates as (

    select * from {{ ref('fx_rates') }}

)

select loyalty.*
from loyalty
inner join fx_rates as fx on fx.currency = 'USD'
inner join fx_rates as reporting_fx on reporting_fx.currency = {{ reporting_currency() }}
where abs(loyalty.liability - loyalty.balance_value_usd * fx.rate_to_usd / reporting_fx.rate_to_usd)
    > 0.005 * loyalty.members
