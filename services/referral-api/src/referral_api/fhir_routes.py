"""What referral-api's FHIR routes share: the callers they accept, how an answer is documented,
where a written version is found, and how a read and a page of search results are audited and
answered.

Declared once so that every resource's routes read the same scopes and answer a search the same
way; a feature's router keeps only what is its own (its model, examples and rules).
"""

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Header, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from referral_api.audit import trail
from signpost_platform.auth import Caller, require_scope
from signpost_platform.db import Versioned
from signpost_platform.fhir.parsing import read_resource, require_json
from signpost_platform.fhir.preconditions import required_version
from signpost_platform.fhir.responses import FHIR_JSON, FhirResponse, version_headers, written
from signpost_platform.fhir.search import SearchQuery, searchset
from signpost_platform.urls import base_url
from signpost_schemas.fhir.base import FhirResource
from signpost_schemas.fhir.lenient import Reading
from signpost_schemas.fhir.operation_outcome import OperationOutcome

ReadCaller = Annotated[Caller, require_scope("referral:read")]
WriteCaller = Annotated[Caller, require_scope("referral:write")]
EXAMPLE_BASE = "http://localhost:8001/fhir"
Resource = TypeVar("Resource", bound=FhirResource)


class StoredVersion(Versioned, Protocol):
    """A stored resource as a feature's repository returns it: its served JSON and version."""

    @property
    def resource(self) -> str: ...


class WrittenVersion(Versioned, Protocol):
    """A version a create or update wrote, with the id of its resource."""

    @property
    def id(self) -> str: ...


def prefer_header(stored: str) -> Any:
    """The Prefer header of a create or update; `stored` names what the representation is
    ("the stored plan")."""
    return Header(
        description=f"return=representation (default: {stored}), return=minimal (no body) or "
        "return=OperationOutcome (the data gaps found, as warnings)"
    )


def if_match_header(sent: str) -> Any:
    """The If-Match header of an update; `sent` names the body ("the plan sent"), whose
    meta.versionId stands in for it."""
    return Header(
        description=f'The version being replaced: W/"3". Without it, the meta.versionId of {sent} '
        "names that version"
    )


def fhir_answer(model: Any, description: str, example: Any) -> dict[str, Any]:
    """An OpenAPI response: the model documenting it, what it means, and an example of it as
    served (`application/fhir+json`)."""
    return {
        "model": model,
        "description": description,
        "content": {FHIR_JSON: {"example": example}},
    }


def outcome_answers(example: dict[str, Any]) -> Callable[[str], dict[str, Any]]:
    """A feature's maker of OperationOutcome answers: each documented by what it means, with the
    feature's `example` outcome."""

    def outcome_answer(description: str) -> dict[str, Any]:
        return fhir_answer(OperationOutcome, description, example)

    return outcome_answer


def searchset_example(
    resource_type: str, query: str, resource_id: str, resource: Any
) -> dict[str, Any]:
    """The example of a search answer: a searchset Bundle of the one `resource` that `query`
    found, with its self link."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": 1,
        "link": [{"relation": "self", "url": f"{EXAMPLE_BASE}/{resource_type}?{query}"}],
        "entry": [
            {
                "fullUrl": f"{EXAMPLE_BASE}/{resource_type}/{resource_id}",
                "resource": resource,
                "search": {"mode": "match"},
            }
        ],
    }


def version_location(
    request: Request, resource_type: str, resource_id: str, version: int
) -> dict[str, str]:
    """Location and Content-Location of a written version: …/{type}/{id}/_history/{version}."""
    url = f"{base_url(request)}/fhir/{resource_type}/{resource_id}/_history/{version}"
    return {"Location": url, "Content-Location": url}


async def read_replacement(
    request: Request, model: type[Resource], resource_type: str, if_match: str | None
) -> tuple[Reading[Resource], int]:
    """The resource an update sends (read leniently) and the version it replaces: If-Match or,
    without it, the body's meta.versionId (428 when neither is sent)."""
    require_json(request)
    reading = read_resource(await request.body(), model, resource_type)
    meta = getattr(reading.resource, "meta", None)
    return reading, required_version(if_match, meta.versionId if meta else None)


def written_answer(
    request: Request,
    resource_type: str,
    stored: WrittenVersion,
    body: bytes,
    status_code: int,
    *,
    prefer: str | None,
    outcome: dict[str, Any],
) -> Response:
    """The answer to a create or update of `stored`, as `Prefer: return=` asks, with its version
    (ETag, Last-Modified) and where it is (Location, Content-Location)."""
    headers = {
        **version_headers(stored.version, stored.last_updated_at),
        **version_location(request, resource_type, stored.id, stored.version),
    }
    return written(body, status_code, headers, prefer=prefer, outcome=outcome)


async def read_answer(
    session: AsyncSession,
    caller: Caller,
    resource_type: str,
    resource_id: str,
    stored: StoredVersion,
) -> Response:
    """Audit the read of a resource and answer its served JSON with its version (ETag,
    Last-Modified)."""
    await trail.record(session, caller, "read", resource_type, resource_id)
    return FhirResponse(
        stored.resource.encode(), 200, version_headers(stored.version, stored.last_updated_at)
    )


async def search_answer(
    request: Request,
    session: AsyncSession,
    caller: Caller,
    resource_type: str,
    search: SearchQuery,
    page: tuple[int | None, Sequence[tuple[str, bytes]]],
) -> Response:
    """Audit the resources a search returned (none under `_summary=count`) and answer the page
    (`total`, None when not counted, then each match's id and served JSON) as a searchset Bundle."""
    total, entries = page
    returned = [resource_id for resource_id, _ in entries] if search.returns_entries else []
    await trail.record(session, caller, "search", resource_type, returned_ids=returned)
    body = searchset(f"{base_url(request)}/fhir/{resource_type}", search, entries, total)
    return FhirResponse(body)
