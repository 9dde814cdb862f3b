"""FHIR R4-shaped Pydantic models of Signpost's profiles.

These are deliberately small and strict: they describe what Signpost accepts and emits, not the
whole of FHIR. `fhir.resources` (R4B) is used in the tests to prove the output is valid FHIR.
"""
