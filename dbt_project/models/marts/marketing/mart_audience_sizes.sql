{# One row per activation audience x audience channel: how many customers each run exports (the dashboard and the
   run report read it; the exported files hold exactly these counts). Every audience and channel has a row, zero
   included. #}
with

members as (

    select * from {{ ref('mart_audience_members') }}

),

audiences as (

    {% for audience in var('activation_audiences') %}
        select '{{ audience }}' as audience
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

channels as (

    select 'email' as audience_channel
    union all
    select 'ad_platforms' as audience_channel

),

members_counted as (

    select
        audience,
        audience_channel,
        count(*) as members
    from members
    group by audience, audience_channel

),

final as (

    select
        audiences.audience,
        channels.audience_channel,
        coalesce(members_counted.members, 0) as members,
        {{ as_of_date() }} as as_of_date
    from audiences
    cross join channels
    left join members_counted
        on audiences.audience = members_counted.audience
        and channels.audience_channel = members_counted.audience_channel

)

select * from final
