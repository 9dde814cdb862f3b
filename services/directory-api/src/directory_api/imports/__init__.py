"""Bulk import of an ORUK JSON or NDJSON export, with progress and an error report."""
