"""What every operation in a published OpenAPI document must carry, as a list of gaps."""

from typing import Any

from tests.support.clients import bearer

HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) for every operation in `document`."""
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def _has_example(media: dict[str, Any]) -> bool:
    return "example" in media or bool(media.get("examples"))


def example_gaps(operation: dict[str, Any]) -> list[str]:
    """A request body or 2xx response with no example (in any of the media types it offers)."""
    gaps = []
    body = operation.get("requestBody", {}).get("content", {})
    if body and not any(_has_example(media) for media in body.values()):
        gaps.append("request body has no example")
    for status, response in operation.get("responses", {}).items():
        if status.startswith("2") and status != "204":
            content = response.get("content", {})
            if not any(_has_example(media) for media in content.values()):
                gaps.append(f"{status} response has no example")
    return gaps


def structural_gaps(operation: dict[str, Any]) -> list[str]:
    """A missing operationId, tag, summary or description, no error response, or an error
    response without a schema."""
    gaps = []
    if not operation.get("operationId"):
        gaps.append("no operationId")
    if not operation.get("tags"):
        gaps.append("no tag")
    for text in ("summary", "description"):
        if not operation.get(text):
            gaps.append(f"no {text}")
    errors = {s: r for s, r in operation.get("responses", {}).items() if s[0] in "45"}
    if "health" not in operation.get("tags", []) and not errors:
        gaps.append("no error responses")
    for status, response in errors.items():
        content = response.get("content", {})
        if not content or not all("schema" in media for media in content.values()):
            gaps.append(f"{status} response has no schema")
    return gaps


# Scopes that widen what an operation reaches: every organisation's records (audit trail
# included) and reports' true counts.
WIDENING_SCOPES = (
    "referral:all-organisations",
    "screening:all-organisations",
    "audit:all-organisations",
    "reports:unsuppressed",
)


def every_scope(document: dict[str, Any]) -> dict[str, str]:
    """An Authorization header granting every scope `document` names, for every organisation
    and with true report counts (object-level access and disclosure have tests of their own)."""
    scopes = {
        operation.get("x-signpost-scope")
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
    } - {None}
    return bearer(*sorted(scopes), *WIDENING_SCOPES)
