"""The served ServiceRequest: the sender's content plus what Signpost derives.

One recipe, written here only: a served referral is
- the sender's content (the ServiceRequest as sent, with our id and `meta` first);
- the lifecycle summary extension (`summary_extension`), derived from the sender's Tasks,
  contacts and assessments (`lifecycle.service.derive_summary`);
- the derived status (`served_status`): completed once closed, revoked once declined or
  cancelled, otherwise the sender's;
- the linked referrals (`served`), rendered for each caller when the referral is served.

Two extensions are managed by Signpost and never taken from a client: the referral lifecycle
summary and the linked referrals. A client that reads a referral and sends it back (PUT) keeps
them unchanged; message processing recomputes the summary. The stored document carries the
summary only: links are added when the referral is served (`with_links`), for each caller, so a
link made or removed by another referral's write changes neither this one's version nor ETag.

referrals, messages and linkage call this module; it reads links through the linkage
repository and calls no feature's service (an import contract checks it).
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.linkage.repository import LinkageRepository, ShownLink
from referral_api.referrals.access import Reach
from signpost_platform.audit import AuditEvent
from signpost_platform.fhir.responses import instant
from signpost_schemas import systems
from signpost_schemas.fhir import profiles
from signpost_schemas.fhir.service_request import ServiceRequest

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


def same_content(resource: ServiceRequest, resource_json: str) -> bool:
    """Whether a ServiceRequest says what a stored referral says, leaving out what Signpost
    sets or derives: id, meta, status and the server-managed extensions."""
    return _sent_part(resource.to_fhir()) == _sent_part(orjson.loads(resource_json))


def _sent_part(document: dict[str, Any]) -> dict[str, Any]:
    part = content_of(document)
    for key in ("id", "status", "resourceType"):
        part.pop(key, None)
    return part


def shows(document: dict[str, Any], server_extensions: list[dict[str, Any]], status: str) -> bool:
    """Whether a stored referral (parsed) already shows these derived extensions and status."""
    return document.get("status") == status and server_extensions == server_extensions_in(document)


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


def render_sent(
    resource: ServiceRequest,
    referral_id: str,
    version: int,
    at: datetime,
    *,
    server_extensions: Sequence[dict[str, Any]] = (),
    status: str | None = None,
) -> str:
    """A ServiceRequest as a sender sent it, rendered at `version`: the server-managed
    extensions a client sends are dropped and `server_extensions` kept instead; `status`, when
    given, is the derived status served in place of the sender's."""
    content: dict[str, Any] = resource.to_fhir()
    incoming_meta = content.pop("meta", {})
    if status is not None:
        content["status"] = status
    return render(
        content,
        referral_id,
        version,
        at,
        server_extensions=list(server_extensions),
        incoming_meta=incoming_meta,
    )


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


def derived(summary: Mapping[str, Any], source_system: str) -> tuple[list[dict[str, Any]], str]:
    """What a referral's lifecycle summary adds to it: the server-managed extensions stored with
    it (the links are not stored: `served` adds them) and its served status."""
    return (
        [summary_extension(summary, source_system)],
        served_status(summary["sender_status"], summary["status"]),
    )


def summary_extension(summary: Mapping[str, Any], source_system: str) -> dict[str, Any]:
    """The lifecycle summary as the ServiceRequest's Extension-Signpost-ReferralLifecycle."""
    parts: list[dict[str, Any]] = [{"url": "status", "valueCode": summary["status"]}]

    def moment(url: str, key: str) -> None:
        if summary.get(key):
            parts.append({"url": url, "valueDateTime": instant(summary[key])})

    moment("acceptedOn", "accepted_at")
    moment("declinedOn", "declined_at")
    if summary.get("decline_reason_code"):
        parts.append(
            {
                "url": "declineReason",
                "valueCoding": {
                    "system": summary["decline_reason_system"],
                    "code": summary["decline_reason_code"],
                },
            }
        )
    moment("cancelledOn", "cancelled_at")
    moment("closedOn", "closed_at")
    if summary.get("closure_reason_code"):
        parts.append(
            {
                "url": "closureReason",
                "valueCoding": {
                    "system": profiles.REFERRAL_CLOSURE_REASON,
                    "code": summary["closure_reason_code"],
                },
            }
        )
        parts.append({"url": "closureOutcome", "valueCode": summary["closure_outcome"]})
    moment("firstContact", "first_contact_at")
    for url, key in (
        ("contacts", "contact_count"),
        ("didNotAttend", "dna_count"),
        ("supportOffered", "support_offered_count"),
        ("onwardReferrals", "onward_referral_count"),
        ("assessments", "assessment_count"),
    ):
        parts.append({"url": url, "valueInteger": summary[key]})
    parts.append({"url": "sourceSystem", "valueCode": source_system})
    return {"url": profiles.REFERRAL_LIFECYCLE_EXTENSION, "extension": parts}


def served_status(sender_status: str, lifecycle_status: str) -> str:
    """ServiceRequest.status as served: completed once closed, revoked once declined or
    cancelled, otherwise what the sender said."""
    if lifecycle_status == "closed":
        return "completed"
    if lifecycle_status in ("declined", "cancelled"):
        return "revoked" if sender_status != "entered-in-error" else sender_status
    return sender_status


class StoredResource(Protocol):
    """A stored referral as `served` reads it (`StoredReferral`, an exported row): its id and
    its stored JSON."""

    @property
    def id(self) -> str: ...

    @property
    def resource(self) -> str: ...


async def served(
    session: AsyncSession,
    stored: Sequence[StoredResource],
    reach: Reach,
    *,
    unlinked: bool = False,
    event: AuditEvent | None = None,
) -> list[bytes]:
    """The referrals as served to a caller of `reach`: each with its links (one query for all).

    A linked referral the caller may read is named (`referral`); one it may not read shows only
    its role, date and link type, so that a link is no oracle for another organisation's ids.
    A person who withdrew consent to share (`consent`) has no link shown to a caller who may not
    read the linked referral: another organisation learns nothing of their other referrals.
    `unlinked` says the caller knows they have no links (a new referral of a new person): no
    query. `event` (a search's audit event) is written with the links' query
    (`LinkageRepository.shown_links`); not with `unlinked`.
    """
    if unlinked:
        return [with_links(s.resource, []).encode() for s in stored]
    shown = await LinkageRepository(session).shown_links([s.id for s in stored], event=event)
    return served_with(stored, reach, shown)


def served_with(
    stored: Sequence[StoredResource], reach: Reach, shown: Sequence[ShownLink]
) -> list[bytes]:
    """`served`, their links already read (`linkage.repository.shown_links_of`, in the
    statement that read the referrals)."""
    links: dict[str, list[dict[str, Any]]] = {}
    for link in shown:
        if link.withdrawn and not reach.allows(link.requester_ods, link.receiver_ods):
            continue
        links.setdefault(link.referral_id, []).append(_link_extension(link, reach))
    return [with_links(s.resource, links.get(s.id, [])).encode() for s in stored]


def _link_extension(link: ShownLink, reach: Reach) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if reach.allows(link.requester_ods, link.receiver_ods):
        reference = f"ServiceRequest/{link.linked_referral_id}"
        parts.append({"url": "referral", "valueReference": {"reference": reference}})
    parts += [
        {"url": "type", "valueCode": link.link_type},
        {
            "url": "role",
            "valueCoding": {
                "system": systems.PERSONALISED_CARE_ROLE,
                "code": link.received_by_role,
            },
        },
        {"url": "authoredOn", "valueDateTime": instant(link.authored_at)},
    ]
    return {"url": profiles.LINKED_REFERRAL_EXTENSION, "extension": parts}
