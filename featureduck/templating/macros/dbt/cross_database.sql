{#- dbt's cross-database macros, written for featureduck: each dispatches on the engine the
    project's SQL is written for (duckdb, postgres, spark), falling back to default__.
    Packages such as dbt_utils call them as dbt.<name>(...). -#}

{#- types ------------------------------------------------------------------------------ -#}
{% macro type_string() %}{{ return(adapter.dispatch('type_string', 'dbt')()) }}{% endmacro %}
{% macro default__type_string() %}{{ return(api.Column.translate_type('string')) }}{% endmacro %}
{% macro spark__type_string() %}{{ return('string') }}{% endmacro %}
{% macro type_timestamp() %}{{ return(adapter.dispatch('type_timestamp', 'dbt')()) }}{% endmacro %}
{% macro default__type_timestamp() %}{{ return(api.Column.translate_type('timestamp')) }}{% endmacro %}
{% macro type_float() %}{{ return(adapter.dispatch('type_float', 'dbt')()) }}{% endmacro %}
{% macro default__type_float() %}{{ return(api.Column.translate_type('float')) }}{% endmacro %}
{% macro type_numeric() %}{{ return(adapter.dispatch('type_numeric', 'dbt')()) }}{% endmacro %}
{% macro default__type_numeric() %}{{ return(api.Column.numeric_type('numeric', 28, 6)) }}{% endmacro %}
{% macro spark__type_numeric() %}{{ return('decimal(28,6)') }}{% endmacro %}
{% macro type_bigint() %}{{ return(adapter.dispatch('type_bigint', 'dbt')()) }}{% endmacro %}
{% macro default__type_bigint() %}{{ return(api.Column.translate_type('bigint')) }}{% endmacro %}
{% macro type_int() %}{{ return(adapter.dispatch('type_int', 'dbt')()) }}{% endmacro %}
{% macro default__type_int() %}{{ return(api.Column.translate_type('integer')) }}{% endmacro %}
{% macro spark__type_int() %}{{ return('int') }}{% endmacro %}
{% macro type_boolean() %}{{ return(adapter.dispatch('type_boolean', 'dbt')()) }}{% endmacro %}
{% macro default__type_boolean() %}{{ return(api.Column.translate_type('boolean')) }}{% endmacro %}

{#- casts ------------------------------------------------------------------------------ -#}
{% macro cast(field, type) %}{{ return(adapter.dispatch('cast', 'dbt')(field, type)) }}{% endmacro %}
{% macro default__cast(field, type) %}cast({{ field }} as {{ type }}){% endmacro %}
{% macro safe_cast(field, type) %}{{ return(adapter.dispatch('safe_cast', 'dbt')(field, type)) }}{% endmacro %}
{% macro default__safe_cast(field, type) %}cast({{ field }} as {{ type }}){% endmacro %}
{% macro duckdb__safe_cast(field, type) %}try_cast({{ field }} as {{ type }}){% endmacro %}
{% macro spark__safe_cast(field, type) %}try_cast({{ field }} as {{ type }}){% endmacro %}
{% macro cast_bool_to_text(field) %}{{ return(adapter.dispatch('cast_bool_to_text', 'dbt')(field)) }}{% endmacro %}
{% macro default__cast_bool_to_text(field) %}cast({{ field }} as {{ dbt.type_string() }}){% endmacro %}

{#- strings ---------------------------------------------------------------------------- -#}
{% macro concat(fields) %}{{ return(adapter.dispatch('concat', 'dbt')(fields)) }}{% endmacro %}
{% macro default__concat(fields) %}{{ fields | join(' || ') }}{% endmacro %}
{% macro spark__concat(fields) %}concat({{ fields | join(', ') }}){% endmacro %}
{% macro hash(field) %}{{ return(adapter.dispatch('hash', 'dbt')(field)) }}{% endmacro %}
{% macro default__hash(field) %}md5(cast({{ field }} as {{ dbt.type_string() }})){% endmacro %}
{% macro length(expression) %}{{ return(adapter.dispatch('length', 'dbt')(expression)) }}{% endmacro %}
{% macro default__length(expression) %}length({{ expression }}){% endmacro %}
{% macro position(substring_text, string_text) %}{{ return(adapter.dispatch('position', 'dbt')(substring_text, string_text)) }}{% endmacro %}
{% macro default__position(substring_text, string_text) %}position({{ substring_text }} in {{ string_text }}){% endmacro %}
{% macro spark__position(substring_text, string_text) %}locate({{ substring_text }}, {{ string_text }}){% endmacro %}
{% macro replace(field, old_chars, new_chars) %}{{ return(adapter.dispatch('replace', 'dbt')(field, old_chars, new_chars)) }}{% endmacro %}
{% macro default__replace(field, old_chars, new_chars) %}replace({{ field }}, {{ old_chars }}, {{ new_chars }}){% endmacro %}
{% macro right(string_text, length_expression) %}{{ return(adapter.dispatch('right', 'dbt')(string_text, length_expression)) }}{% endmacro %}
{% macro default__right(string_text, length_expression) %}right({{ string_text }}, {{ length_expression }}){% endmacro %}
{% macro split_part(string_text, delimiter_text, part_number) %}{{ return(adapter.dispatch('split_part', 'dbt')(string_text, delimiter_text, part_number)) }}{% endmacro %}
{% macro default__split_part(string_text, delimiter_text, part_number) %}split_part({{ string_text }}, {{ delimiter_text }}, {{ part_number }}){% endmacro %}
{#- DuckDB's list indexes count from the end when negative, as dbt's part numbers do -#}
{% macro duckdb__split_part(string_text, delimiter_text, part_number) %}string_split({{ string_text }}, {{ delimiter_text }})[{{ part_number }}]{% endmacro %}
{% macro postgres__split_part(string_text, delimiter_text, part_number) -%}
{%- if part_number >= 0 -%}split_part({{ string_text }}, {{ delimiter_text }}, {{ part_number }})
{%- else -%}split_part({{ string_text }}, {{ delimiter_text }}, length({{ string_text }}) - length(replace({{ string_text }}, {{ delimiter_text }}, '')) + 2 + {{ part_number }})
{%- endif -%}
{%- endmacro %}
{% macro escape_single_quotes(expression) %}{{ return(adapter.dispatch('escape_single_quotes', 'dbt')(expression)) }}{% endmacro %}
{% macro default__escape_single_quotes(expression) %}{{ expression | replace("'", "''") }}{% endmacro %}
{% macro spark__escape_single_quotes(expression) %}{{ expression | replace("'", "\\'") }}{% endmacro %}
{% macro string_literal(value) %}{{ return(adapter.dispatch('string_literal', 'dbt')(value)) }}{% endmacro %}
{% macro default__string_literal(value) %}'{{ value }}'{% endmacro %}

{#- aggregates ------------------------------------------------------------------------- -#}
{% macro any_value(expression) %}{{ return(adapter.dispatch('any_value', 'dbt')(expression)) }}{% endmacro %}
{% macro default__any_value(expression) %}any_value({{ expression }}){% endmacro %}
{% macro duckdb__any_value(expression) %}arbitrary({{ expression }}){% endmacro %}
{% macro postgres__any_value(expression) %}min({{ expression }}){% endmacro %}
{% macro spark__any_value(expression) %}first({{ expression }}){% endmacro %}
{% macro bool_or(expression) %}{{ return(adapter.dispatch('bool_or', 'dbt')(expression)) }}{% endmacro %}
{% macro default__bool_or(expression) %}bool_or({{ expression }}){% endmacro %}
{% macro spark__bool_or(expression) %}max({{ expression }}){% endmacro %}
{% macro listagg(measure, delimiter_text="','", order_by_clause=none, limit_num=none) -%}
{{ return(adapter.dispatch('listagg', 'dbt')(measure, delimiter_text, order_by_clause, limit_num)) }}
{%- endmacro %}
{% macro default__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
{%- if limit_num -%}array_to_string((array_agg({{ measure }} {{ order_by_clause or '' }}))[1:{{ limit_num }}], {{ delimiter_text }})
{%- else -%}string_agg({{ measure }}, {{ delimiter_text }} {{ order_by_clause or '' }})
{%- endif -%}
{%- endmacro %}
{% macro duckdb__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
{%- if limit_num -%}list_aggr((array_agg({{ measure }} {{ order_by_clause or '' }}))[1:{{ limit_num }}], 'string_agg', {{ delimiter_text }})
{%- else -%}string_agg({{ measure }}, {{ delimiter_text }} {{ order_by_clause or '' }})
{%- endif -%}
{%- endmacro %}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
{%- if order_by_clause or limit_num -%}{{ exceptions.raise_compiler_error("listagg with order_by_clause or limit_num is not supported for spark SQL projects") }}{%- endif -%}
array_join(collect_list({{ measure }}), {{ delimiter_text }})
{%- endmacro %}

{#- dates ------------------------------------------------------------------------------ -#}
{% macro current_timestamp() %}{{ return(adapter.dispatch('current_timestamp', 'dbt')()) }}{% endmacro %}
{% macro default__current_timestamp() %}current_timestamp{% endmacro %}
{% macro duckdb__current_timestamp() %}now(){% endmacro %}
{% macro date_trunc(datepart, date) %}{{ return(adapter.dispatch('date_trunc', 'dbt')(datepart, date)) }}{% endmacro %}
{% macro default__date_trunc(datepart, date) %}date_trunc('{{ datepart }}', {{ date }}){% endmacro %}
{% macro dateadd(datepart, interval, from_date_or_timestamp) %}{{ return(adapter.dispatch('dateadd', 'dbt')(datepart, interval, from_date_or_timestamp)) }}{% endmacro %}
{% macro default__dateadd(datepart, interval, from_date_or_timestamp) %}dateadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }}){% endmacro %}
{#- an interval of any expression: the count times one unit (quarters are 3 months, weeks 7 days) -#}
{% macro duckdb__dateadd(datepart, interval, from_date_or_timestamp) -%}
{%- set unit = datepart | lower -%}
{%- set scale, unit = ({'quarter': (3, 'month'), 'week': (7, 'day')}).get(unit, (1, unit)) -%}
({{ from_date_or_timestamp }} + cast({{ interval }} as bigint){% if scale != 1 %} * {{ scale }}{% endif %} * interval 1 {{ unit }})
{%- endmacro %}
{% macro postgres__dateadd(datepart, interval, from_date_or_timestamp) -%}
({{ from_date_or_timestamp }} + ((interval '1 {{ datepart }}') * ({{ interval }})))
{%- endmacro %}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
{%- set unit = datepart | lower -%}
{%- if unit == 'day' -%}date_add({{ from_date_or_timestamp }}, {{ interval }})
{%- elif unit in ('month', 'quarter', 'year') -%}add_months({{ from_date_or_timestamp }}, ({{ interval }}) * {{ {'month': 1, 'quarter': 3, 'year': 12}[unit] }})
{%- else -%}timestampadd({{ unit }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endif -%}
{%- endmacro %}
{% macro datediff(first_date, second_date, datepart) %}{{ return(adapter.dispatch('datediff', 'dbt')(first_date, second_date, datepart)) }}{% endmacro %}
{% macro default__datediff(first_date, second_date, datepart) %}datediff({{ datepart }}, {{ first_date }}, {{ second_date }}){% endmacro %}
{#- whole boundaries crossed between the two, as dbt counts them; weeks start on Sunday -#}
{% macro duckdb__datediff(first_date, second_date, datepart) -%}
{%- if datepart | lower == 'week' -%}
(date_diff('day', date_trunc('week', cast({{ first_date }} as timestamp) + interval 1 day), date_trunc('week', cast({{ second_date }} as timestamp) + interval 1 day)) // 7)
{%- else -%}
(date_diff('{{ datepart }}', cast({{ first_date }} as timestamp), cast({{ second_date }} as timestamp)))
{%- endif -%}
{%- endmacro %}
{% macro postgres__datediff(first_date, second_date, datepart) -%}
{%- set unit = datepart | lower -%}
{%- set years = "(date_part('year', (" ~ second_date ~ ")::date) - date_part('year', (" ~ first_date ~ ")::date))" -%}
{%- set days = "(((" ~ second_date ~ ")::date - (" ~ first_date ~ ")::date))" -%}
{%- if unit == 'year' -%}{{ years }}
{%- elif unit == 'quarter' -%}({{ years }} * 4 + date_part('quarter', ({{ second_date }})::date) - date_part('quarter', ({{ first_date }})::date))
{%- elif unit == 'month' -%}({{ years }} * 12 + date_part('month', ({{ second_date }})::date) - date_part('month', ({{ first_date }})::date))
{%- elif unit == 'day' -%}{{ days }}
{%- elif unit == 'week' -%}({{ days }} / 7 + case when date_part('dow', ({{ first_date }})::timestamp) <= date_part('dow', ({{ second_date }})::timestamp) then case when {{ first_date }} <= {{ second_date }} then 0 else -1 end else case when {{ first_date }} <= {{ second_date }} then 1 else 0 end end)
{%- elif unit == 'hour' -%}({{ days }} * 24 + date_part('hour', ({{ second_date }})::timestamp) - date_part('hour', ({{ first_date }})::timestamp))
{%- elif unit == 'minute' -%}(({{ days }} * 24 + date_part('hour', ({{ second_date }})::timestamp) - date_part('hour', ({{ first_date }})::timestamp)) * 60 + date_part('minute', ({{ second_date }})::timestamp) - date_part('minute', ({{ first_date }})::timestamp))
{%- elif unit == 'second' -%}((({{ days }} * 24 + date_part('hour', ({{ second_date }})::timestamp) - date_part('hour', ({{ first_date }})::timestamp)) * 60 + date_part('minute', ({{ second_date }})::timestamp) - date_part('minute', ({{ first_date }})::timestamp)) * 60 + floor(date_part('second', ({{ second_date }})::timestamp)) - floor(date_part('second', ({{ first_date }})::timestamp)))
{%- else -%}{{ exceptions.raise_compiler_error("datediff does not support the datepart " ~ datepart ~ " on postgres") }}
{%- endif -%}
{%- endmacro %}
{% macro last_day(date, datepart) %}{{ return(adapter.dispatch('last_day', 'dbt')(date, datepart)) }}{% endmacro %}
{% macro default_last_day(date, datepart) -%}
cast({{ dbt.dateadd('day', '-1', dbt.dateadd(datepart, '1', dbt.date_trunc(datepart, date))) }} as date)
{%- endmacro %}
{% macro default__last_day(date, datepart) %}{{ dbt.default_last_day(date, datepart) }}{% endmacro %}
{% macro date(year, month, day) %}{{ return(adapter.dispatch('date', 'dbt')(year, month, day)) }}{% endmacro %}
{% macro default__date(year, month, day) %}make_date({{ year }}, {{ month }}, {{ day }}){% endmacro %}
{% macro postgres__date(year, month, day) %}to_date('{{ modules.datetime.date(year, month, day).strftime("%Y-%m-%d") }}', 'YYYY-MM-DD'){% endmacro %}
{% macro spark__date(year, month, day) %}make_date({{ year }}, {{ month }}, {{ day }}){% endmacro %}

{#- sets and series ------------------------------------------------------------------- -#}
{% macro except() %}{{ return(adapter.dispatch('except', 'dbt')()) }}{% endmacro %}
{% macro default__except() %}except{% endmacro %}
{% macro intersect() %}{{ return(adapter.dispatch('intersect', 'dbt')()) }}{% endmacro %}
{% macro default__intersect() %}intersect{% endmacro %}
{% macro get_powers_of_two(upper_bound) -%}
{%- if upper_bound <= 0 -%}{{ exceptions.raise_compiler_error("upper bound must be positive") }}{%- endif -%}
{%- for n in range(1, 100) -%}{%- if upper_bound <= 2 ** n -%}{{ return(n) }}{%- endif -%}{%- endfor -%}
{%- endmacro %}
{% macro generate_series(upper_bound) %}{{ return(adapter.dispatch('generate_series', 'dbt')(upper_bound)) }}{% endmacro %}
{% macro default__generate_series(upper_bound) -%}
select generated_number from (select explode(sequence(1, {{ upper_bound }})) as generated_number) as series
{%- endmacro %}
{% macro duckdb__generate_series(upper_bound) %}select generate_series as generated_number from generate_series(1, {{ upper_bound }}){% endmacro %}
{% macro postgres__generate_series(upper_bound) %}select generated_number from generate_series(1, {{ upper_bound }}) as generated_number{% endmacro %}
{% macro get_intervals_between(start_date, end_date, datepart) -%}
{%- call statement('get_intervals_between', fetch_result=True) -%}select {{ dbt.datediff(start_date, end_date, datepart) }}{%- endcall -%}
{%- set found = load_result('get_intervals_between') -%}
{{ return(found['data'][0][0] | int if found and found['data'] else 1) }}
{%- endmacro %}
{% macro date_spine(datepart, start_date, end_date) -%}
with rawdata as ({{ dbt.generate_series(dbt.get_intervals_between(start_date, end_date, datepart)) }}),
all_periods as (select ({{ dbt.dateadd(datepart, 'generated_number - 1', start_date) }}) as date_{{ datepart }} from rawdata),
filtered as (select * from all_periods where date_{{ datepart }} <= {{ end_date }})
select * from filtered
{%- endmacro %}

{#- arrays ----------------------------------------------------------------------------- -#}
{% macro array_construct(inputs=[], data_type=api.Column.translate_type('integer')) %}{{ return(adapter.dispatch('array_construct', 'dbt')(inputs, data_type)) }}{% endmacro %}
{% macro default__array_construct(inputs, data_type) -%}
{%- if inputs | length > 0 -%}array[{{ inputs | join(', ') }}]{%- else -%}cast(array[] as {{ data_type }}[]){%- endif -%}
{%- endmacro %}
{% macro spark__array_construct(inputs, data_type) %}array({{ inputs | join(', ') }}){% endmacro %}
{% macro array_append(array, new_element) %}{{ return(adapter.dispatch('array_append', 'dbt')(array, new_element)) }}{% endmacro %}
{% macro default__array_append(array, new_element) %}array_append({{ array }}, {{ new_element }}){% endmacro %}
{% macro spark__array_append(array, new_element) %}concat({{ array }}, array({{ new_element }})){% endmacro %}
{% macro array_concat(array_1, array_2) %}{{ return(adapter.dispatch('array_concat', 'dbt')(array_1, array_2)) }}{% endmacro %}
{% macro default__array_concat(array_1, array_2) %}array_cat({{ array_1 }}, {{ array_2 }}){% endmacro %}
{% macro duckdb__array_concat(array_1, array_2) %}list_concat({{ array_1 }}, {{ array_2 }}){% endmacro %}
{% macro spark__array_concat(array_1, array_2) %}concat({{ array_1 }}, {{ array_2 }}){% endmacro %}

{#- tests' helpers ---------------------------------------------------------------------- -#}
{% macro should_store_failures() %}{{ return(config.get('store_failures') or flags.STORE_FAILURES) }}{% endmacro %}
