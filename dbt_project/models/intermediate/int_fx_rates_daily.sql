{# One row per currency per calendar day of the data (int_date_bounds) on which it has a rate to the reporting
   currency: the latest rate published on or before that day, at most var('fx_max_rate_age_days') old (weekends,
   holidays, a package a few weeks behind the ECB), never back-filled before a currency's first rate. ECB rates
   (base EUR) are crossed to the reporting currency via the euro on their own publication date; override rows
   (base = the reporting currency) win over the ECB's for the same currency and date. The reporting currency itself
   needs no row (rate 1, any date: see macros/money.sql). An as-of join done once, so facts equi-join on
   (currency, date). Only rates that can reach the data's days are read: published from var('fx_max_rate_age_days')
   before the first day to the last day, so the work follows the data's date range, not the ECB's history since
   1999 (an older rate is too old for every day; a later one starts after them). #}
{% set max_rate_age_days = run_setting('fx_max_rate_age_days') | int %}
with

bounds as {{ read_in_place() }} (

    select * from {{ ref('int_date_bounds') }}

),

rates as (

    select stg_fx__rates.*
    from {{ ref('stg_fx__rates') }} as stg_fx__rates
    cross join bounds
    where stg_fx__rates.rate_date >= {{ dbt.dateadd('day', -max_rate_age_days, 'bounds.first_date') }}
        and stg_fx__rates.rate_date <= bounds.last_date

),

reporting_per_euro as (

    select
        rate_date,
        rate_to_base
    from rates
    where rate_source = 'ecb' and currency = {{ reporting_currency() }}

),

published as (

    select
        rates.rate_date,
        rates.currency,
        case
            when rates.base_currency = {{ reporting_currency() }} then rates.rate_to_base
            else rates.rate_to_base / reporting_per_euro.rate_to_base
        end as rate_to_reporting,
        rates.rate_source,
        rates.source_priority
    from rates
    left join reporting_per_euro
        on rates.rate_source = 'ecb' and rates.rate_date = reporting_per_euro.rate_date
    where rates.currency <> {{ reporting_currency() }}
        and (rates.base_currency = {{ reporting_currency() }} or reporting_per_euro.rate_to_base is not null)

),

ranked as (

    select
        published.*,
        row_number() over (
            partition by published.currency, published.rate_date order by published.source_priority
        ) as preference
    from published

),

rate_periods as (

    select
        currency,
        rate_date as valid_from,
        lead(rate_date) over (partition by currency order by rate_date) as valid_to,
        cast(rate_to_reporting as decimal(28, 16)) as rate_to_reporting,
        rate_source
    from ranked
    where preference = 1

),

days as (

    select cast(date_day as date) as date_day
    from (
        {{ dbt.date_spine(
            'day',
            '(select first_date from ' ~ ref('int_date_bounds') ~ ')',
            '(select ' ~ dbt.dateadd('day', 1, 'last_date') ~ ' from ' ~ ref('int_date_bounds') ~ ')'
        ) }}
    ) as spine

),

final as (

    select
        days.date_day as rate_date,
        rate_periods.currency,
        rate_periods.valid_from as published_rate_date,
        rate_periods.rate_to_reporting,
        rate_periods.rate_source
    from rate_periods
    cross join bounds
    inner join days
        on rate_periods.valid_from <= days.date_day
        and (rate_periods.valid_to is null or rate_periods.valid_to > days.date_day)
        and days.date_day <= {{ dbt.dateadd('day', max_rate_age_days, 'rate_periods.valid_from') }}
    where rate_periods.valid_from <= bounds.last_date
        and (rate_periods.valid_to is null or rate_periods.valid_to > bounds.first_date)

)

select * from final
