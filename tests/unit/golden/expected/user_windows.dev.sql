WITH __fduck__cte__events_clean AS (
  SELECT
    user_id,
    CAST(event_ts AS TIMESTAMP) AS event_ts,
    CAST(amount AS DECIMAL(10, 2)) AS amount,
    kind
  FROM app.events
)
/* Trailing windows, FILTER, date_trunc and QUALIFY: the core of feature SQL. */
SELECT
  user_id,
  DATE_TRUNC('DAY', event_ts) AS day,
  COUNT(*) FILTER(WHERE
    kind = 'purchase') OVER w AS purchases_7d,
  SUM(amount) OVER w AS amount_7d,
  STRFTIME(event_ts, '%Y-%m') AS month
FROM __fduck__cte__events_clean AS events_clean
WINDOW w AS (
  PARTITION BY user_id
  ORDER BY event_ts
  range BETWEEN INTERVAL '7' DAYS preceding AND CURRENT ROW
)
QUALIFY
  ROW_NUMBER() OVER (PARTITION BY user_id, DATE_TRUNC('DAY', event_ts) ORDER BY event_ts DESC) = 1
