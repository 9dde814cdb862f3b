"""Synthetic examples of the `$export` answers for the OpenAPI document."""

from typing import Any

JOB = "5b0e7c3a-2f4d-4e1a-9c8b-7d6e5f4a3b21"
BASE = "https://referral.signpost.example"


def outcome(text: str) -> dict[str, Any]:
    """An informational OperationOutcome (the optional body of a Bulk Data 202)."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "diagnostics": text}],
    }


ACCEPTED = outcome(f"export {JOB} accepted: poll the Content-Location URL for its status")
IN_PROGRESS = outcome("1200 of 3400 resources written (35%), writing Encounter")
CANCELLED = outcome(f"export {JOB} cancelled: its files are deleted")
MANIFEST: dict[str, Any] = {
    "transactionTime": "2026-11-30T02:00:00.000Z",
    "request": f"{BASE}/fhir/$export?_type=ServiceRequest,Task&_pseudonymise=true",
    "requiresAccessToken": True,
    "output": [
        {
            "type": "ServiceRequest",
            "url": f"{BASE}/fhir/$export-file/{JOB}/ServiceRequest",
            "count": 2841,
        },
        {"type": "Task", "url": f"{BASE}/fhir/$export-file/{JOB}/Task", "count": 2790},
    ],
    "error": [],
    "extension": {"pseudonymised": True, "withdrawnConsent": {"referrals": 12, "people": 9}},
}
NDJSON = (
    '{"resourceType":"Task","id":"8d1f2c3b-4a5e-4f60-9b7c-1d2e3f4a5b6c","status":"accepted",'
    '"intent":"order","for":{"type":"Patient","identifier":{"system":'
    '"https://signpost.nhs.example/Id/person-pseudonym","value":"-4127538210937764511"}}}\n'
)
