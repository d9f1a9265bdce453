{# One row per acquisition channel (the source / medium of customers' first web session): customers acquired, their
   value (gross margin to date + predicted 12-month CLV) against what their ad platform spent to the as-of date.
   CAC and CLV:CAC come from macros/metrics.sql, on the same acquisition basis as mart_marketing_performance. #}
with

clv as (

    select * from {{ ref('mart_clv') }}

),

ad_spend as (

    select * from {{ ref('fct_ad_spend_daily') }}
    where spend_reporting_date <= {{ as_of_date() }}

),

platform_channels as (

    select * from {{ ref('dim_channel') }}
    where ad_platform is not null

),

channel_spend as (

    select
        platform_channels.source as traffic_source,
        platform_channels.medium as traffic_medium,
        sum(ad_spend.spend_reporting) as spend_reporting
    from ad_spend
    inner join platform_channels on ad_spend.ad_platform = platform_channels.ad_platform
    group by all

),

customers_by_channel as (

    select
        first_touch_source as traffic_source,
        first_touch_medium as traffic_medium,
        any_value(first_touch_platform) as ad_platform,
        count(*) as customers_acquired,
        avg(historical_gross_margin_reporting) as average_gross_margin_to_date,
        avg(predicted_clv_12_months_reporting) as average_predicted_clv_12_months
    from clv
    group by all

),

final as (

    select
        customers_by_channel.traffic_source || ' / ' || customers_by_channel.traffic_medium as acquisition_channel,
        customers_by_channel.traffic_source,
        customers_by_channel.traffic_medium,
        customers_by_channel.ad_platform,
        customers_by_channel.customers_acquired,
        cast(round(customers_by_channel.average_gross_margin_to_date, 2) as decimal(18, 2))
            as average_gross_margin_to_date_reporting,
        cast(round(customers_by_channel.average_predicted_clv_12_months, 2) as decimal(18, 2))
            as average_predicted_clv_12_months_reporting,
        cast(round(
            customers_by_channel.average_gross_margin_to_date + customers_by_channel.average_predicted_clv_12_months, 2
        ) as decimal(18, 2)) as average_clv_reporting,
        cast(coalesce(channel_spend.spend_reporting, 0) as decimal(18, 2)) as spend_reporting,
        {{ customer_acquisition_cost('channel_spend.spend_reporting', 'customers_by_channel.customers_acquired') }}
            as customer_acquisition_cost_reporting,
        {{ clv_to_cac(
            'customers_by_channel.average_gross_margin_to_date + customers_by_channel.average_predicted_clv_12_months',
            'channel_spend.spend_reporting',
            'customers_by_channel.customers_acquired'
        ) }} as clv_to_cac_ratio,
        {{ reporting_currency() }} as reporting_currency
    from customers_by_channel
    left join channel_spend
        on customers_by_channel.traffic_source = channel_spend.traffic_source
        and customers_by_channel.traffic_medium = channel_spend.traffic_medium

)

select * from final
