-- Newest pickup in [start, end) and the trips picked up since :since.
-- param start: timestamp
-- param end: timestamp
-- param start_dt: varchar
-- param end_dt: varchar
-- param start_hour: varchar
-- param end_hour: varchar
-- param since: timestamp
SELECT
  CAST(MAX(pickup_at) AS TIMESTAMP) AS newest_pickup_at,
  COALESCE(SUM(CASE WHEN pickup_at >= :since THEN 1 ELSE 0 END), 0) AS trips_since
FROM trips
WHERE dt BETWEEN :start_dt AND :end_dt
  -- dt/hour of the first and last instant in range: hour-level pruning with plain predicates.
  AND (dt > :start_dt OR hour >= :start_hour)
  AND (dt < :end_dt OR hour <= :end_hour)
  AND pickup_at >= :start AND pickup_at < :end
