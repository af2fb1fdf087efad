select
    user_id,
    plan,
    cast(signed_up_at as date) as signed_up_at
from {{ source('app', 'users') }}
