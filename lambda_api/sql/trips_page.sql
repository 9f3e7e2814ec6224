-- One page of trips in [start, end), keyset-paginated on (pickup_at, trip_id).
-- columns: trips
-- param start: timestamp
-- param end: timestamp
-- param start_dt: varchar
-- param end_dt: varchar
-- param start_hour: varchar
-- param end_hour: varchar
-- param service: varchar
-- param pickup_zone_id: integer
-- param dropoff_zone_id: integer
-- param borough: varchar
-- param payment_type: integer
-- param cursor_at: timestamp
-- param cursor_id: varchar
-- param limit: integer
SELECT *
FROM trips
WHERE dt BETWEEN :start_dt AND :end_dt
  -- dt/hour of the first and last instant in range: hour-level pruning with plain predicates.
  AND (dt > :start_dt OR hour >= :start_hour)
  AND (dt < :end_dt OR hour <= :end_hour)
  AND pickup_at >= :start AND pickup_at < :end
  AND (:service IS NULL OR service = :service)
  AND (:pickup_zone_id IS NULL OR pickup_zone_id = :pickup_zone_id)
  AND (:dropoff_zone_id IS NULL OR dropoff_zone_id = :dropoff_zone_id)
  AND (:borough IS NULL OR pickup_borough = :borough)
  AND (:payment_type IS NULL OR payment_type = :payment_type)
  AND (
    :cursor_at IS NULL
    OR pickup_at > :cursor_at
    OR (pickup_at = :cursor_at AND trip_id > :cursor_id)
  )
-- The table's columns, not the output's CAST(pickup_at AS TIMESTAMP): the same order, and
-- DuckDB then takes the first rows before projecting (not after casting every row in range).
ORDER BY trips.pickup_at, trips.trip_id
LIMIT :limit
