{% macro count_events(event_type) -%}
count(*) filter (where event_type = '{{ event_type }}')
{%- endmacro %}
