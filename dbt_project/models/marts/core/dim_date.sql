{# One row per day the data needs: from the first dated record to the later of the as-of date and the last dated
   record (int_date_bounds), plus var('dim_date_horizon_days') ahead for forecasts. #}
with

days as (

    {{ dbt.date_spine(
        'day',
        '(select first_date from ' ~ ref('int_date_bounds') ~ ')',
        '(select ' ~ dbt.dateadd('day', var('dim_date_horizon_days') | int + 1, 'last_date') ~ ' from '
            ~ ref('int_date_bounds') ~ ')'
    ) }}

),

final as (

    select
        cast(date_day as date) as date_day,
        cast(strftime(date_day, '%Y%m%d') as integer) as date_key,
        extract(year from date_day) as year,
        extract(quarter from date_day) as quarter,
        extract(month from date_day) as month,
        strftime(date_day, '%B') as month_name,
        cast(date_trunc('month', date_day) as date) as month_start_date,
        cast(date_trunc('week', date_day) as date) as week_start_date,
        extract(isodow from date_day) as iso_day_of_week,
        strftime(date_day, '%A') as day_name,
        extract(isodow from date_day) in (6, 7) as is_weekend
    from days

)

select * from final
