{#- Window helpers for time-based features: a trailing aggregate per entity. -#}

{% macro rolling_agg(agg, column, partition_by, order_by, window) -%}
{{ agg }}({{ column }}) over (
    partition by {{ partition_by }} order by {{ order_by }}
    range between interval '{{ window }}' preceding and current row)
{%- endmacro %}

{% macro days_ago(n, column='current_date') -%}
({{ column }} - interval '{{ n }} days')
{%- endmacro %}
