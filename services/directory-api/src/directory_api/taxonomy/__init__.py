"""Taxonomies and their terms: needs, service types and roles, and the needs → service types map."""
