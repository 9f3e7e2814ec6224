-- Totals of the 5-minute partial aggregates in [start, end); ratios are taken by the caller.
-- param start: timestamp
-- param end: timestamp
-- param start_dt: varchar
-- param end_dt: varchar
-- param start_hour: varchar
-- param end_hour: varchar
-- param service: varchar
-- param borough: varchar
-- param zone_id: integer
SELECT
  COALESCE(SUM(trips), 0) AS trips,
  COALESCE(SUM(passengers), 0) AS passengers,
  COALESCE(SUM(revenue), 0) AS revenue,
  SUM(fare_sum) AS fare_sum,
  SUM(distance_sum) AS distance_sum,
  SUM(duration_s_sum) AS duration_s_sum,
  SUM(card_tip_sum) AS card_tip_sum,
  SUM(card_fare_sum) AS card_fare_sum
FROM zone_metrics
WHERE dt BETWEEN :start_dt AND :end_dt
  -- dt/hour of the first and last instant in range: hour-level pruning with plain predicates.
  AND (dt > :start_dt OR hour >= :start_hour)
  AND (dt < :end_dt OR hour <= :end_hour)
  AND window_start >= :start AND window_start < :end
  AND (:service IS NULL OR service = :service)
  AND (:borough IS NULL OR pickup_borough = :borough)
  AND (:zone_id IS NULL OR pickup_zone_id = :zone_id)
