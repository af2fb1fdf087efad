SELECT
  user_id,
  MAX(day) AS last_day
FROM features.user_windows
WHERE
  day >= CAST(CURRENT_DATE - INTERVAL '30' DAYS AS TIMESTAMP_NTZ)
GROUP BY
  user_id
