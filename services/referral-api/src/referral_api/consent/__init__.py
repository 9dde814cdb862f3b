"""Consent for information sharing (PRSB social prescribing standard): `/fhir/Consent`."""
