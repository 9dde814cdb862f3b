"""Locations where services are delivered (physical, postal or virtual)."""
