"""The clinic screening page (`GET /screen`, docs/pages.md)."""
