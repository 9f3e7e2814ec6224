-- Pickup zones ranked by a metric over [start, end), from the 5-minute partial aggregates.
-- param start: timestamp
-- param end: timestamp
-- param start_dt: varchar
-- param end_dt: varchar
-- param start_hour: varchar
-- param end_hour: varchar
-- param metric: varchar
-- param service: varchar
-- param borough: varchar
-- param limit: integer
-- Ranked outside the aggregation: Trino (Athena) refuses an ORDER BY over aggregates of a
-- column whose name is also an output alias (revenue, fare_sum), which DuckDB accepts.
SELECT zone_id, pickups, revenue, fare_sum
FROM (
  SELECT
    pickup_zone_id AS zone_id,
    SUM(trips) AS pickups,
    SUM(revenue) AS revenue,
    SUM(fare_sum) AS fare_sum
  FROM zone_metrics
  WHERE dt BETWEEN :start_dt AND :end_dt
    -- dt/hour of the first and last instant in range: hour-level pruning with plain predicates.
    AND (dt > :start_dt OR hour >= :start_hour)
    AND (dt < :end_dt OR hour <= :end_hour)
    AND window_start >= :start AND window_start < :end
    AND (:service IS NULL OR service = :service)
    AND (:borough IS NULL OR pickup_borough = :borough)
  GROUP BY pickup_zone_id
) AS z
ORDER BY
  CASE :metric
    WHEN 'revenue' THEN CAST(revenue AS DOUBLE)
    WHEN 'avg_fare' THEN CAST(fare_sum AS DOUBLE) / CAST(pickups AS DOUBLE)
    ELSE CAST(pickups AS DOUBLE)
  END DESC,
  zone_id
LIMIT :limit
