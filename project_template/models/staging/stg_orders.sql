select
    order_id,
    customer_id,
    {{ to_cents('amount') }} as amount_cents,
    status,
    cast(ordered_at as timestamp) as ordered_at
from {{ source('raw', 'orders') }}
where amount >= {{ var('min_order_amount') }}
