{# One row per day x ad platform x campaign x channel (source / medium): platform spend and delivery next to the
   orders and revenue the warehouse attributes (int_orders_attributed), last touch and first touch. Spend sits on the
   channel its platform buys (dim_channel.ad_platform). New customers sit on their acquisition channel (first touch),
   so CAC here equals mart_channel_clv_cac's; every ratio comes from macros/metrics.sql.
   Channels nobody pays for (organic, email, direct) have attributed revenue and zero spend: their cost ratios are
   null, never a division by zero. #}
with

ad_spend as (

    select * from {{ ref('fct_ad_spend_daily') }}
    where spend_reporting_date <= {{ as_of_date() }}

),

platform_channels as (

    select * from {{ ref('dim_channel') }}
    where ad_platform is not null

),

orders as {{ read_in_place() }} (

    select * from {{ ref('int_orders_attributed') }}

),

spend_summarized as (

    select
        ad_spend.spend_reporting_date as date_day,
        ad_spend.ad_platform,
        ad_spend.campaign_name,
        platform_channels.source as traffic_source,
        platform_channels.medium as traffic_medium,
        sum(ad_spend.spend_reporting) as spend_reporting,
        sum(ad_spend.impressions) as impressions,
        sum(ad_spend.clicks) as clicks,
        sum(ad_spend.platform_conversions) as platform_conversions
    from ad_spend
    inner join platform_channels on ad_spend.ad_platform = platform_channels.ad_platform
    group by all

),

last_touch as (

    select
        order_date as date_day,
        last_touch_platform as ad_platform,
        last_touch_campaign as campaign_name,
        last_touch_source as traffic_source,
        last_touch_medium as traffic_medium,
        count(*) as last_touch_orders,
        sum(net_revenue_reporting) as last_touch_revenue_reporting
    from orders
    group by all

),

first_touch as (

    select
        order_date as date_day,
        first_touch_platform as ad_platform,
        first_touch_campaign as campaign_name,
        first_touch_source as traffic_source,
        first_touch_medium as traffic_medium,
        count(*) as first_touch_orders,
        sum(net_revenue_reporting) as first_touch_revenue_reporting,
        {# a customer is acquired by the channel of their first web session (metrics.sql) #}
        count(*) filter (where is_first_order) as new_customers
    from orders
    group by all

),

joined as (

    select
        date_day,
        ad_platform,
        campaign_name,
        traffic_source,
        traffic_medium,
        coalesce(spend_summarized.spend_reporting, 0) as spend_reporting,
        coalesce(spend_summarized.impressions, 0) as impressions,
        coalesce(spend_summarized.clicks, 0) as clicks,
        coalesce(spend_summarized.platform_conversions, 0) as platform_conversions,
        coalesce(last_touch.last_touch_orders, 0) as last_touch_orders,
        coalesce(last_touch.last_touch_revenue_reporting, 0) as last_touch_revenue_reporting,
        coalesce(first_touch.new_customers, 0) as new_customers,
        coalesce(first_touch.first_touch_orders, 0) as first_touch_orders,
        coalesce(first_touch.first_touch_revenue_reporting, 0) as first_touch_revenue_reporting
    from spend_summarized
    full outer join last_touch using (date_day, ad_platform, campaign_name, traffic_source, traffic_medium)
    full outer join first_touch using (date_day, ad_platform, campaign_name, traffic_source, traffic_medium)

),

final as (

    select
        {{ dbt.hash(dbt.concat([
            'cast(date_day as varchar)', "'|'", 'ad_platform', "'|'", 'campaign_name', "'|'",
            'traffic_source', "'|'", 'traffic_medium'
        ])) }} as marketing_performance_key,
        date_day,
        cast(strftime(date_day, '%Y%m%d') as integer) as date_key,
        ad_platform,
        campaign_name,
        traffic_source,
        traffic_medium,
        traffic_source || ' / ' || traffic_medium as channel,
        ad_platform != '(none)' as is_paid,
        cast(spend_reporting as decimal(18, 2)) as spend_reporting,
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast(platform_conversions as double) as platform_conversions,
        round(clicks / nullif(impressions, 0), 6) as click_through_rate,
        cast(round(spend_reporting / nullif(clicks, 0), 2) as decimal(18, 2)) as cost_per_click_reporting,
        cast(round(spend_reporting * 1000 / nullif(impressions, 0), 2) as decimal(18, 2)) as cost_per_mille_reporting,
        cast(last_touch_orders as bigint) as last_touch_orders,
        cast(last_touch_revenue_reporting as decimal(18, 2)) as last_touch_revenue_reporting,
        cast(first_touch_orders as bigint) as first_touch_orders,
        cast(first_touch_revenue_reporting as decimal(18, 2)) as first_touch_revenue_reporting,
        cast(new_customers as bigint) as new_customers,
        {{ cost_per_acquisition('spend_reporting', 'last_touch_orders') }} as cost_per_order_reporting,
        {{ return_on_ad_spend('last_touch_revenue_reporting', 'spend_reporting') }} as roas_last_touch,
        {{ return_on_ad_spend('first_touch_revenue_reporting', 'spend_reporting') }} as roas_first_touch,
        {{ customer_acquisition_cost('spend_reporting', 'new_customers') }} as customer_acquisition_cost_reporting,
        {{ reporting_currency() }} as reporting_currency
    from joined

)

select * from final
