{# Surrogate key of a traffic channel (source/medium pair); a web session's missing source/medium counts as direct
   (GA4's (direct)/(none)). A CRM record without an acquisition source passes '(unknown)' instead (dim_customer). #}
{% macro channel_key(source, medium) -%}
    {{ dbt.hash(dbt.concat(["coalesce(" ~ source ~ ", '(direct)')", "'|'", "coalesce(" ~ medium ~ ", '(none)')"])) }}
{%- endmacro %}

{# Surrogate key of a campaign: one campaign dimension across ad platforms. #}
{% macro campaign_key(ad_platform, campaign_id) -%}
    {{ dbt.hash(dbt.concat([ad_platform, "'|'", campaign_id])) }}
{%- endmacro %}

{# The ad platform paying for a session's traffic: its click id first (any declared platform's, var ad_platforms),
   else its source/medium (the platform's utm patterns). `relation` is a sessions relation (int_web_sessions) or its
   alias: traffic_source, traffic_medium and one column per platform's click id. Null when nobody pays. #}
{% macro session_ad_platform(relation) -%}
    case
        {%- for platform in var('ad_platforms') %}
        when {{ relation }}.{{ platform.click_id }} is not null then '{{ platform.name }}'
        {%- endfor %}
        {%- for platform in var('ad_platforms') %}
        when {{ relation }}.traffic_source in ({{ sql_list(platform.utm_sources) }})
            and {{ relation }}.traffic_medium in ({{ sql_list(platform.utm_mediums) }}) then '{{ platform.name }}'
        {%- endfor %}
    end
{%- endmacro %}

{# A Jinja list of strings as a SQL list of literals: ['a', 'b'] -> 'a', 'b'. #}
{% macro sql_list(values) -%}
    {%- for value in values %}'{{ value }}'{% if not loop.last %}, {% endif %}{% endfor -%}
{%- endmacro %}

{# The channel (source / medium) each declared ad platform's spend buys, as rows: ad_platform, traffic_source,
   traffic_medium. #}
{% macro ad_platform_channels() -%}
    {%- for platform in var('ad_platforms') %}
    select
        '{{ platform.name }}' as ad_platform,
        '{{ platform.paid_source }}' as traffic_source,
        '{{ platform.paid_medium }}' as traffic_medium
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{# The one label of an unknown channel: no web session to attribute to, and no acquisition source in the CRM. Never
   'direct' (a real GA4 channel: a visit without a referrer), so unknown acquisition is not counted as direct. #}
{% macro unknown_channel() -%}
    '(unknown)'
{%- endmacro %}
