"""The change feed: every record's latest state in modification order, retirements as tombstones."""
