-- Sums per time bucket (and group) of the 5-minute partial aggregates in [start, end).
-- param start: timestamp
-- param end: timestamp
-- param start_dt: varchar
-- param end_dt: varchar
-- param start_hour: varchar
-- param end_hour: varchar
-- param unit: varchar
-- param group_by: varchar
-- param service: varchar
-- param borough: varchar
-- Summed per 5-minute window first, then per bucket: the cast and date_trunc (per row, DuckDB's
-- costliest step over 30 days of windows) run once per window and group, not per row.
SELECT
  date_trunc(:unit, CAST(window_start AS TIMESTAMP)) AS bucket,
  grp,
  SUM(trips) AS trips,
  SUM(passengers) AS passengers,
  SUM(revenue) AS revenue,
  SUM(fare_sum) AS fare_sum,
  SUM(distance_sum) AS distance_sum,
  SUM(duration_s_sum) AS duration_s_sum,
  SUM(card_tip_sum) AS card_tip_sum,
  SUM(card_fare_sum) AS card_fare_sum
FROM (
  SELECT
    window_start,
    CASE :group_by
      WHEN 'service' THEN service
      WHEN 'borough' THEN pickup_borough
      WHEN 'zone' THEN CAST(pickup_zone_id AS VARCHAR)
    END AS grp,
    SUM(trips) AS trips,
    SUM(passengers) AS passengers,
    SUM(revenue) AS revenue,
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
  GROUP BY 1, 2
) AS w
GROUP BY 1, 2
ORDER BY 1, 2
