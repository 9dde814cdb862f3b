"""Common plumbing shared by every Signpost service.

App factory, settings, async database engine and request-scoped session, errors rendered as FHIR
OperationOutcome or problem+json, bearer-token authentication with scopes, structured logging with
correlation ids, and the `/_ping` and `/_status` health endpoints.
"""
