"""Reports: the minimum dataset's analytics, with disclosure control (see docs/reports.md)."""
