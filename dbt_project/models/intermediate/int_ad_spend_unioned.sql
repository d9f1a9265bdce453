{# Every declared ad platform (var ad_platforms) in one vocabulary: each platform's staging model
   stg_<platform>__campaign_stats maps its report to the same columns. Platforms report days in the ad account's timezone: spend_date stays that
   account-local day; spend_reporting_date is the reporting-timezone date its midpoint falls on
   (macros/dates.sql). Spend is converted at the rate of spend_reporting_date. #}
with

{% for platform in var('ad_platforms') %}
    {{ platform.name }} as (

        select * from {{ ref('stg_' ~ platform.name ~ '__campaign_stats') }}

    ),

{% endfor -%}
unioned as (

    {% for platform in var('ad_platforms') -%}
        select * from {{ platform.name }}
        {% if not loop.last %}union all by name
        {% endif %}
    {%- endfor %}

),

dated as (

    select
        unioned.*,
        {{ account_day_to_reporting_date('unioned.spend_date', 'unioned.account_timezone') }} as spend_reporting_date
    from unioned

),

converted as (

    select
        dated.*,
        {{ to_reporting_currency('dated.spend', 'dated.currency') }} as spend_reporting,
        {{ reporting_currency() }} as reporting_currency
    from dated
    {{ fx_join('dated.currency', 'dated.spend_reporting_date') }}

)

select * from converted
