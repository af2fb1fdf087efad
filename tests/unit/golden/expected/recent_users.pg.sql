SELECT
  user_id,
  MAX(day) AS last_day
FROM analytics.user_windows
WHERE
  day >= CURRENT_DATE - INTERVAL '30 DAYS'
GROUP BY
  user_id
