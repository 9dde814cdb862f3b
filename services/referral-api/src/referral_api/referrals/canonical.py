"""The served ServiceRequest JSON: the sender's content plus what Signpost derives.

Two extensions are managed by Signpost and never taken from a client: the referral lifecycle
summary and the linked referrals. A client that reads a referral and sends it back (PUT) keeps
them unchanged; message processing recomputes the summary. The stored document carries the
summary only: links are added when the referral is served (`with_links`), for each caller, so a
link made or removed by another referral's write changes neither this one's version nor ETag.
"""

from datetime import datetime
from typing import Any

import orjson

from signpost_platform.fhir.responses import instant
from signpost_schemas import systems
from signpost_schemas.fhir import profiles

SERVER_MANAGED_EXTENSIONS = frozenset(
    {profiles.REFERRAL_LIFECYCLE_EXTENSION, profiles.LINKED_REFERRAL_EXTENSION}
)


def content_of(document: dict[str, Any]) -> dict[str, Any]:
    """The document without meta and without server-managed extensions."""
    content = {k: v for k, v in document.items() if k != "meta"}
    content["extension"] = [
        e for e in document.get("extension", []) if e.get("url") not in SERVER_MANAGED_EXTENSIONS
    ]
    return content


def server_extensions_of(resource_json: str) -> list[dict[str, Any]]:
    """The server-managed extensions of a stored referral, in order."""
    return server_extensions_in(orjson.loads(resource_json))


def server_extensions_in(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The server-managed extensions of a parsed referral, in order."""
    return [e for e in document.get("extension", []) if e.get("url") in SERVER_MANAGED_EXTENSIONS]


def subject_identifier_of(resource_json: str) -> tuple[str, str] | None:
    """(system, value) of the person a stored referral names in `subject.identifier`."""
    identifier = (orjson.loads(resource_json).get("subject") or {}).get("identifier") or {}
    system, value = identifier.get("system"), identifier.get("value")
    return (system, value) if isinstance(system, str) and isinstance(value, str) else None


def render(
    content: dict[str, Any],
    referral_id: str,
    version: int,
    at: datetime,
    *,
    server_extensions: list[dict[str, Any]],
    incoming_meta: dict[str, Any] | None = None,
) -> str:
    """The resource as served: id and meta first, then the content, then derived extensions."""
    incoming_meta = incoming_meta or {}
    profile_list = list(
        dict.fromkeys([systems.SERVICE_REQUEST_PROFILE, *incoming_meta.get("profile", [])])
    )
    meta: dict[str, Any] = {
        "versionId": str(version),
        "lastUpdated": instant(at),
        "profile": profile_list,
    }
    # The sender's other meta elements (tag, security, source, ...) are kept as sent.
    meta.update(
        (key, value)
        for key, value in incoming_meta.items()
        if key not in ("versionId", "lastUpdated", "profile")
    )
    document: dict[str, Any] = {"resourceType": "ServiceRequest", "id": referral_id, "meta": meta}
    for key, value in content.items():
        if key in ("resourceType", "id", "meta"):
            continue
        if key == "extension":
            value = [e for e in value if e.get("url") not in SERVER_MANAGED_EXTENSIONS] + [
                e for e in server_extensions if e.get("url") != profiles.LINKED_REFERRAL_EXTENSION
            ]
        document[key] = value
    return orjson.dumps(document).decode()


def rerender(
    document: dict[str, Any],
    version: int,
    at: datetime,
    *,
    server_extensions: list[dict[str, Any]],
    status: str,
) -> str:
    """A stored referral (parsed) with new derived extensions and status, at a new version."""
    content = content_of(document)
    content["status"] = status
    return render(
        content,
        document["id"],
        version,
        at,
        server_extensions=server_extensions,
        incoming_meta=document.get("meta"),
    )


def with_links(resource_json: str, links: list[dict[str, Any]]) -> str:
    """A stored referral as served: its extensions followed by `links` (linked-referral
    extensions rendered for the caller). A link extension a document stored before links were
    rendered at read time may still carry is replaced."""
    if not links and profiles.LINKED_REFERRAL_EXTENSION not in resource_json:
        return resource_json
    document = orjson.loads(resource_json)
    extensions = [
        e
        for e in document.get("extension", [])
        if e.get("url") != profiles.LINKED_REFERRAL_EXTENSION
    ] + links
    if extensions:
        document["extension"] = extensions
    else:
        document.pop("extension", None)
    return orjson.dumps(document).decode()
