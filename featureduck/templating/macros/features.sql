{#- Feature-engineering macros shipped with featureduck. They write DuckDB SQL that
    transpiles to Postgres and Spark with the same meaning (the cross-engine suite
    runs each on all three). Call them bare or as featureduck.<name>(...). -#}

{#- A trailing aggregate per entity over a time window: sum(x) over the 7 days up to each row. -#}
{% macro rolling_agg(agg, column, partition_by, order_by, window) -%}
{{ agg }}({{ column }}) over (
    partition by {{ partition_by }} order by {{ order_by }}
    range between interval '{{ window }}' preceding and current row)
{%- endmacro %}

{#- Several trailing aggregates at once, one column each: <column>_<agg>_<window>, e.g. amount_sum_7d. -#}
{% macro rolling(column, partition_by, order_by, windows=['7 days'], aggs=['sum', 'avg', 'count'], prefix=none) -%}
{%- for window in windows -%}{%- for agg in aggs -%}
{{ rolling_agg(agg, column, partition_by, order_by, window) }} as {{ prefix or column }}_{{ agg }}_{{ window_suffix(window) }}
{%- if not loop.last %},
{% endif -%}{%- endfor -%}{%- if not loop.last %},
{% endif -%}{%- endfor -%}
{%- endmacro %}

{#- '7 days' -> 7d, '12 hours' -> 12h, '30 minutes' -> 30m, '1 month' -> 1mo. -#}
{% macro window_suffix(window) -%}
{%- set parts = window.split() -%}
{%- set units = {'day': 'd', 'hour': 'h', 'minute': 'm', 'second': 's', 'week': 'w', 'month': 'mo', 'year': 'y'} -%}
{{ parts[0] }}{{ units.get(parts[1].rstrip('s'), parts[1]) }}
{%- endmacro %}

{#- Earlier values of a column per entity: <column>_lag_<n> for each n. -#}
{% macro lags(column, partition_by, order_by, periods=[1], prefix=none) -%}
{%- for n in periods -%}
lag({{ column }}, {{ n }}) over (partition by {{ partition_by }} order by {{ order_by }}) as {{ prefix or column }}_lag_{{ n }}
{%- if not loop.last %},
{% endif -%}
{%- endfor -%}
{%- endmacro %}

{#- Seconds since the entity's previous event (NULL for its first). -#}
{% macro seconds_since_previous(timestamp, partition_by) -%}
(epoch({{ timestamp }}) - epoch(lag({{ timestamp }}) over (partition by {{ partition_by }} order by {{ timestamp }})))
{%- endmacro %}

{#- Seconds from an event to a reference time (a column, or a timestamp literal). -#}
{% macro seconds_between(start, end) -%}
(epoch({{ end }}) - epoch({{ start }}))
{%- endmacro %}

{#- How many standard deviations a value is from the mean (of its partition, or of all rows);
    NULL where the deviation is 0. In doubles: Spark would round a decimal's average. -#}
{% macro zscore(column, partition_by=none) -%}
{%- set over -%}over ({% if partition_by %}partition by {{ partition_by }}{% endif %}){%- endset -%}
{%- set value -%}cast({{ column }} as double){%- endset -%}
({{ value }} - avg({{ value }}) {{ over }}) / nullif(stddev_samp({{ value }}) {{ over }}, 0)
{%- endmacro %}

{#- The bucket a value falls in: 0 below the first boundary, n at or above the n-th; NULL stays NULL. -#}
{% macro bucketize(column, boundaries) -%}
case
{%- for boundary in boundaries %} when ({{ column }}) < {{ boundary }} then {{ loop.index0 }}{% endfor %}
 when ({{ column }}) is not null then {{ boundaries | length }} end
{%- endmacro %}

{#- One 0/1 column per accepted value, <prefix>_<value>: one-hot encoding. -#}
{% macro one_hot(column, values, prefix=none) -%}
{%- for value in values -%}
case when {{ column }} = {{ "'" ~ (value | string).replace("'", "''") ~ "'" if value is string else value }} then 1 else 0 end
 as {{ prefix or column }}_{{ (value | string) | lower | replace(' ', '_') | replace('-', '_') | replace('.', '_') }}
{%- if not loop.last %},
{% endif -%}
{%- endfor -%}
{%- endmacro %}

{% macro days_ago(n, column='current_date') -%}
({{ column }} - interval '{{ n }} days')
{%- endmacro %}
