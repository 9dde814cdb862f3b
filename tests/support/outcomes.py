"""Reading the OperationOutcome a FHIR endpoint answers a refusal with."""

from typing import Any


def has_issue(outcome: dict[str, Any], code: str, expression: str) -> bool:
    """Whether an issue of `outcome` has the issue type `code` and names `expression`."""
    return any(
        issue["code"] == code and expression in issue.get("expression", [])
        for issue in outcome["issue"]
    )
