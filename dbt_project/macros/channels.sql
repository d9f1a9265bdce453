{# Surrogate key of a traffic channel (source/medium pair); a missing source/medium counts as direct. #}
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
