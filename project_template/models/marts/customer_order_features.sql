-- Per customer and day: order activity features for a feature store.
with daily as (
    select
        customer_id,
        date_trunc('day', ordered_at) as feature_ts,
        count(*) as orders,
        sum(amount_cents) filter (where status = 'paid') as paid_cents
    from {{ ref('stg_orders') }}
    group by customer_id, date_trunc('day', ordered_at)
)
select
    d.customer_id,
    d.feature_ts,
    d.orders,
    coalesce(d.paid_cents, 0) as paid_cents,
    sum(d.orders) over (
        partition by d.customer_id order by d.feature_ts
        range between interval 7 days preceding and current row
    ) as orders_7d,
    c.country
from daily as d
join {{ ref('stg_customers') }} as c using (customer_id)
