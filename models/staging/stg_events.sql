select
    event_id,
    user_id,
    event_type,
    cast(amount as decimal(10, 2)) as amount,
    cast(event_ts as timestamp) as event_ts
from {{ source('app', 'events') }}
