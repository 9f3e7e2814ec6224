-- Rejected records ingested in [start, end).
-- param start: timestamp
-- param end: timestamp
-- param start_dt: varchar
-- param end_dt: varchar
SELECT COUNT(*) AS dead_letters
FROM dead_letters
WHERE dt BETWEEN :start_dt AND :end_dt
  AND ingested_at >= :start AND ingested_at < :end
