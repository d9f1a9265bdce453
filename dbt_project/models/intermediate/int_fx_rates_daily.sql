{{ config(materialized='table') }}
{# Every calendar day from a currency's first published rate to the end of dim_date, with the latest rate
   published on or before that day (an as-of join done once, so facts join on (currency, date) with an equi-join
   that any engine runs well). #}
with

rates as (

    select * from {{ ref('fx_rates') }}

),

days as (

    select cast(date_day as date) as date_day
    from (
        {{ dbt.date_spine('day', "cast('" ~ var('dim_date_start') ~ "' as date)", "cast('" ~ var('dim_date_end_exclusive') ~ "' as date)") }}  -- noqa: LT05
    ) as spine

),

rate_periods as (

    select
        currency,
        rate_date as valid_from,
        lead(rate_date) over (partition by currency order by rate_date) as valid_to,
        rate_to_usd
    from rates

),

final as (

    select
        days.date_day as rate_date,
        rate_periods.currency,
        rate_periods.valid_from as published_rate_date,
        rate_periods.rate_to_usd
    from rate_periods
    inner join days
        on rate_periods.valid_from <= days.date_day
        and (rate_periods.valid_to is null or rate_periods.valid_to > days.date_day)

)

select * from final
