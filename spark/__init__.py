"""The Structured Streaming job: Kafka -> parse, validate, dedup, enrich -> the S3 lake."""
