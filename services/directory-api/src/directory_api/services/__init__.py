"""Services: the ORUK read API, link-worker filters and curation."""
