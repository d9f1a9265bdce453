{# Models land in the schema their folder names (staging, intermediate, marts), not <target>_<schema>. The `published`
   target (the semantic layer's, orchestration/semantic/manifest.py) describes the published marts file, where the
   publisher puts every mart in `main`. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if target.name == 'published' -%}main
    {%- elif custom_schema_name is none -%}{{ target.schema }}
    {%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
