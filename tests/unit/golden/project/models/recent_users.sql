{{ config(materialized='table', schema='marts') }}
select user_id, max(day) as last_day
from {{ ref('user_windows') }}
where day >= current_date - interval '30 days'
group by user_id
