"""Organisations that provide services."""
