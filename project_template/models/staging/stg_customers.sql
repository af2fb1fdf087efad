select
    customer_id,
    name,
    country,
    cast(signed_up_at as date) as signed_up_at
from {{ source('raw', 'customers') }}
