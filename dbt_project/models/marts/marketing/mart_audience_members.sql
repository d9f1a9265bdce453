{# One row per activation audience x audience channel x customer: who each run exports to the ad platforms
   (ad_platforms channel) and the e-mail tool (email channel). Built only from mart_audiences, so a customer is in
   a channel only with that channel's consent, and in a segment-based audience only with profiling consent (the
   segment and stage columns are null without it). A member needs a contact to be reached by: an email for the
   email channel, an email or a phone for ad_platforms (int_customer_contacts; the contacts themselves stay in the
   build warehouse). The audience rules live here and nowhere else. #}
with

audiences as {{ read_in_place() }} (

    select * from {{ ref('mart_audiences') }}
    where audience_channel in ('email', 'ad_platforms')

),

loyalty as (

    select * from {{ ref('mart_loyalty') }}

),

contacts as (

    select * from {{ ref('int_customer_contacts') }}

),

audience_rules as (

    select
        'champions' as audience,
        audience_channel,
        customer_key
    from audiences
    where rfm_segment = 'Champions'

    union all

    select
        'high_value_at_risk' as audience,
        audience_channel,
        customer_key
    from audiences
    where rfm_segment in ('At Risk', 'Can''t Lose Them')

    union all

    select
        'lapsed_loyalty_members' as audience,
        audiences.audience_channel,
        audiences.customer_key
    from audiences
    inner join loyalty on audiences.customer_key = loyalty.customer_key
    where audiences.lifecycle_stage in ('at_risk', 'lapsed')

),

final as (

    select
        audience_rules.audience,
        audience_rules.audience_channel,
        audience_rules.customer_key
    from audience_rules
    inner join contacts on audience_rules.customer_key = contacts.customer_key
    where
        contacts.email is not null
        or (audience_rules.audience_channel = 'ad_platforms' and contacts.phone is not null)

)

select * from final
