-- Rejected records per time bucket and reason (a record with two reasons counts under both).
-- param start: timestamp
-- param end: timestamp
-- param start_dt: varchar
-- param end_dt: varchar
-- param unit: varchar
SELECT
  date_trunc(:unit, CAST(ingested_at AS TIMESTAMP)) AS bucket,
  reason,
  COUNT(*) AS records
FROM dead_letters
CROSS JOIN UNNEST(reasons) AS r (reason)
WHERE dt BETWEEN :start_dt AND :end_dt
  AND ingested_at >= :start AND ingested_at < :end
GROUP BY 1, 2
ORDER BY 1, 2
