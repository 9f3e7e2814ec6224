"""Operator tools for an AWS deployment: ``python -m ops check`` (make aws-check, before a
deploy) and ``python -m ops smoke`` (make aws-smoke, after it)."""
