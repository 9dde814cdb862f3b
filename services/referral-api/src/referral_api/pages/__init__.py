"""The reports dashboard (`GET /reports/dashboard`, docs/pages.md)."""
