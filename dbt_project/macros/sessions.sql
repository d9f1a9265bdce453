{# The columns whose change between a device's consecutive events starts a new web session (with
   `session_timeout_minutes` of inactivity): source, medium, campaign and the click id of every declared ad platform
   (var ad_platforms). One list for the model that cuts sessions (int_web_sessions_by_device) and the test that
   recounts them another way (assert_web_sessions_reconcile_to_stitched_events). #}
{% macro session_traffic_columns() -%}
    {%- set columns = ['traffic_source', 'traffic_medium', 'campaign_name'] -%}
    {%- for platform in var('ad_platforms') %}{% do columns.append(platform.click_id) %}{% endfor -%}
    {{ return(columns) }}
{%- endmacro %}
