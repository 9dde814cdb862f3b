"""Referrals: create, read, update and search FHIR ServiceRequests."""
