{# Surrogate key of a traffic channel (source/medium pair); a web session's missing source/medium counts as direct
   (GA4's (direct)/(none)). A CRM record without an acquisition source passes '(unknown)' instead (dim_customer). #}
{% macro channel_key(source, medium) -%}
    {{ dbt.hash(dbt.concat(["coalesce(" ~ source ~ ", '(direct)')", "'|'", "coalesce(" ~ medium ~ ", '(none)')"])) }}
{%- endmacro %}

{# Surrogate key of a campaign: one campaign dimension across ad platforms. #}
{% macro campaign_key(ad_platform, campaign_id) -%}
    {{ dbt.hash(dbt.concat([ad_platform, "'|'", campaign_id])) }}
{%- endmacro %}

{# The ad platform paying for a session's traffic: its click id first, else its source/medium. #}
{% macro session_ad_platform(source, medium, gclid, fbclid) -%}
    case
        when {{ gclid }} is not null then 'google_ads'
        when {{ fbclid }} is not null then 'meta_ads'
        when {{ source }} = 'google' and {{ medium }} in ('cpc', 'ppc', 'paid_search') then 'google_ads'
        when {{ source }} in ('facebook', 'instagram', 'meta') and {{ medium }} in ('paid_social', 'paidsocial', 'cpc')
            then 'meta_ads'
    end
{%- endmacro %}

{# The one label of an unknown channel: no web session to attribute to, and no acquisition source in the CRM. Never
   'direct' (a real GA4 channel: a visit without a referrer), so unknown acquisition is not counted as direct. #}
{% macro unknown_channel() -%}
    '(unknown)'
{%- endmacro %}
