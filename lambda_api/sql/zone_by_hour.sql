-- Trips of one pickup zone per UTC hour of day over [start, end).
-- param start: timestamp
-- param end: timestamp
-- param start_dt: varchar
-- param end_dt: varchar
-- param start_hour: varchar
-- param end_hour: varchar
-- param zone_id: integer
SELECT
  CAST(extract(HOUR FROM CAST(window_start AS TIMESTAMP)) AS INTEGER) AS hour_of_day,
  SUM(trips) AS trips
FROM zone_metrics
WHERE dt BETWEEN :start_dt AND :end_dt
  -- dt/hour of the first and last instant in range: hour-level pruning with plain predicates.
  AND (dt > :start_dt OR hour >= :start_hour)
  AND (dt < :end_dt OR hour <= :end_hour)
  AND window_start >= :start AND window_start < :end
  AND pickup_zone_id = :zone_id
GROUP BY 1
ORDER BY 1
