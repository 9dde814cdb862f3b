"""Backfill: importing a history file (NDJSON message Bundles or the CSV template)."""
