SELECT
  user_id,
  day,
  purchases_7d,
  amount_7d,
  month
FROM (
  WITH __fduck__cte__events_clean AS (
    SELECT
      user_id,
      CAST(event_ts AS TIMESTAMP_NTZ) AS event_ts,
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
    DATE_FORMAT(event_ts, 'yyyy-MM') AS month,
    ROW_NUMBER() OVER (PARTITION BY user_id, DATE_TRUNC('DAY', event_ts) ORDER BY event_ts DESC) AS _w
  FROM __fduck__cte__events_clean AS events_clean
  WINDOW w AS (
    PARTITION BY user_id
    ORDER BY event_ts NULLS LAST
    range BETWEEN INTERVAL '7' DAYS preceding AND CURRENT ROW
  )
) AS _t
WHERE
  _w = 1
