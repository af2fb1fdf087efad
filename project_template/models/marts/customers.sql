select
    c.customer_id,
    c.name,
    c.country,
    count(o.order_id) as lifetime_orders,
    coalesce(sum(o.amount_cents), 0) as lifetime_cents,
    max(o.ordered_at) as last_order_at
from {{ ref('stg_customers') }} as c
left join {{ ref('stg_orders') }} as o using (customer_id)
group by c.customer_id, c.name, c.country
