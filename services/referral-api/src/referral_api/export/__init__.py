"""FHIR Bulk Data `$export`: record-level NDJSON for an ICB's warehouse (docs/referral-api.md)."""
