-- One trip by id, searched in the dt/hour range given (raw trips are never read unbounded).
-- columns: trips
-- param start: timestamp
-- param end: timestamp
-- param start_dt: varchar
-- param end_dt: varchar
-- param start_hour: varchar
-- param end_hour: varchar
-- param trip_id: varchar
SELECT *
FROM trips
WHERE dt BETWEEN :start_dt AND :end_dt
  -- dt/hour of the first and last instant in range: hour-level pruning with plain predicates.
  AND (dt > :start_dt OR hour >= :start_hour)
  AND (dt < :end_dt OR hour <= :end_hour)
  AND pickup_at >= :start AND pickup_at < :end
  AND trip_id = :trip_id
LIMIT 1
