-- Ephemeral: inlined as a CTE into the models that ref it.
select
    user_id,
    date_trunc('day', event_ts) as activity_day,
    {{ count_events('view') }} as views,
    {{ count_events('click') }} as clicks,
    {{ count_events('purchase') }} as purchases,
    coalesce(sum(amount), 0) as revenue
from {{ ref('stg_events') }}
group by user_id, date_trunc('day', event_ts)
