"""Streams NYC taxi trips into Kafka: synthetic (learnt from real data) or replayed TLC files."""
