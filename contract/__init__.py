"""The trip contract: every field, table and validation rule of the platform, defined once.

The producer, the Spark job, the Glue tables (through ``tables.json``) and the API all read
their field lists, types and rules from here.
"""

from contract.fields import SCHEMA_VERSION, TRIP_FIELDS, Field, FieldType
from contract.record import Trip, decode, encode, replay_trip_id
from contract.rules import RULES, Rule
from contract.tables import DEAD_LETTERS, TABLES, TRIPS, ZONE_METRICS, Table

__all__ = [
    "DEAD_LETTERS",
    "RULES",
    "SCHEMA_VERSION",
    "TABLES",
    "TRIPS",
    "TRIP_FIELDS",
    "ZONE_METRICS",
    "Field",
    "FieldType",
    "Rule",
    "Table",
    "Trip",
    "decode",
    "encode",
    "replay_trip_id",
]
