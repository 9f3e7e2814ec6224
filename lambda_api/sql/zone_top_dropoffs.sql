-- Dropoff zones of the trips picked up in one zone over [start, end) (raw trips: dt/hour bound).
-- param start: timestamp
-- param end: timestamp
-- param start_dt: varchar
-- param end_dt: varchar
-- param start_hour: varchar
-- param end_hour: varchar
-- param zone_id: integer
-- param limit: integer
SELECT
  dropoff_zone_id AS zone_id,
  COUNT(*) AS trips
FROM trips
WHERE dt BETWEEN :start_dt AND :end_dt
  -- dt/hour of the first and last instant in range: hour-level pruning with plain predicates.
  AND (dt > :start_dt OR hour >= :start_hour)
  AND (dt < :end_dt OR hour <= :end_hour)
  AND pickup_at >= :start AND pickup_at < :end
  AND pickup_zone_id = :zone_id
GROUP BY dropoff_zone_id
ORDER BY 2 DESC, 1
LIMIT :limit
