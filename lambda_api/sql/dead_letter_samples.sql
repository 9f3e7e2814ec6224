-- The newest rejected records in [start, end), optionally with one reason.
-- param start: timestamp
-- param end: timestamp
-- param start_dt: varchar
-- param end_dt: varchar
-- param reason: varchar
-- param limit: integer
SELECT
  raw_value,
  -- As JSON text: Athena returns arrays as unquoted '[a, b]', the twin as a Python repr.
  CAST(reasons AS JSON) AS reasons_json,
  topic,
  kafka_partition,
  kafka_offset,
  CAST(ingested_at AS TIMESTAMP) AS ingested_at
FROM dead_letters
WHERE dt BETWEEN :start_dt AND :end_dt
  AND ingested_at >= :start AND ingested_at < :end
  AND (:reason IS NULL OR contains(reasons, :reason))
ORDER BY 6 DESC, 3, 4, 5
LIMIT :limit
