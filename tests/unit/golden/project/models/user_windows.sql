-- Trailing windows, FILTER, date_trunc and QUALIFY: the core of feature SQL.
select
    user_id,
    date_trunc('day', event_ts) as day,
    count(*) filter (where kind = 'purchase') over w as purchases_7d,
    sum(amount) over w as amount_7d,
    strftime(event_ts, '%Y-%m') as month
from {{ ref('events_clean') }}
window w as (partition by user_id order by event_ts range between interval 7 days preceding and current row)
qualify row_number() over (partition by user_id, date_trunc('day', event_ts) order by event_ts desc) = 1
