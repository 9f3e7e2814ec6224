"""Benchmarks: ``python -m bench`` (``make bench``) prints a table, writes results/latest.json."""
