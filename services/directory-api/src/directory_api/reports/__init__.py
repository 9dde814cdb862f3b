"""Curation reports."""
