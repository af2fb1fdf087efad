SELECT
  user_id,
  CAST(event_ts AS TIMESTAMP) AS event_ts,
  CAST(amount AS DECIMAL(10, 2)) AS amount,
  kind
FROM app.events
