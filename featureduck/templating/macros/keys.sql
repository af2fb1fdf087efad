{#- Built-in macros shipped with featureduck; a project macro of the same name wins. -#}

{% macro surrogate_key(columns) -%}
md5(concat_ws('||', {% for column in columns %}coalesce(cast({{ column }} as varchar), '__null__'){% if not loop.last %}, {% endif %}{% endfor %}))
{%- endmacro %}
