-- Daily activity features per user, with trailing windows.
select
    d.user_id,
    d.activity_day as feature_ts,
    d.views,
    d.clicks,
    d.purchases,
    -- a sum of counts is HUGEINT on DuckDB and numeric on Postgres: the feature view declares bigint
    cast({{ rolling_agg('sum', 'd.purchases', 'd.user_id', 'd.activity_day', var('activity_window')) }} as bigint) as purchases_7d,
    {{ rolling_agg('sum', 'd.revenue', 'd.user_id', 'd.activity_day', var('activity_window')) }} as revenue_7d,
    {{ safe_divide('d.clicks', 'd.views') }} as click_through_rate,
    u.plan
from {{ ref('int_user_days') }} as d
join {{ ref('stg_users') }} as u on u.user_id = d.user_id
