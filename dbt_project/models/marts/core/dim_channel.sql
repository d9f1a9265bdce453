{# One row per traffic source/medium pair seen in web sessions, CRM acquisition data or ad platforms, grouped into
   a channel by the first matching rule of the channel_groupings seed (lowest priority; '*' matches anything), and
   the ad platform whose spend buys it (each declared platform's paid channel, var ad_platforms; macro
   ad_platform_channels): the one place spend meets channels. #}
with

sessions as (

    select * from {{ ref('int_web_sessions') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

rules as (

    select * from {{ ref('channel_groupings') }}

),

platform_channels as (

    {{ ad_platform_channels() }}

),

pairs as (

    select distinct
        coalesce(traffic_source, '(direct)') as source,
        coalesce(traffic_medium, '(none)') as medium
    from sessions
    union
    select distinct
        coalesce(acquisition_source, {{ unknown_channel() }}) as source,
        coalesce(acquisition_medium, {{ unknown_channel() }}) as medium
    from customers
    union
    select
        traffic_source as source,
        traffic_medium as medium
    from platform_channels

),

matched as (

    select
        pairs.source,
        pairs.medium,
        rules.channel,
        row_number() over (
            partition by pairs.source, pairs.medium order by rules.priority asc, rules.source desc, rules.medium desc
        ) as match_rank
    from pairs
    inner join rules
        on (rules.source = '*' or pairs.source = rules.source)
        and (rules.medium = '*' or pairs.medium = rules.medium)

),

final as (

    select
        {{ channel_key('matched.source', 'matched.medium') }} as channel_key,
        matched.source,
        matched.medium,
        matched.channel,
        matched.channel in ('paid search', 'paid social') as is_paid,
        platform_channels.ad_platform
    from matched
    left join platform_channels
        on matched.source = platform_channels.traffic_source
        and matched.medium = platform_channels.traffic_medium
    where matched.match_rank = 1

)

select * from final
