{{ config(materialized='incremental', unique_key='event_id') }}
-- Every purchase, appended incrementally by event time.
select
    e.event_id,
    e.user_id,
    e.amount,
    e.event_ts
from {{ ref('stg_events') }} as e
where e.event_type = 'purchase'
{% if is_incremental() %}
  and e.event_ts > (select max(event_ts) from {{ this }})
{% endif %}
