{{ config(materialized='ephemeral') }}
select user_id, event_ts::timestamp as event_ts, amount::decimal(10, 2) as amount, kind
from {{ source('app', 'events') }}
