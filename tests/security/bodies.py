"""Request bodies and headers the security tests send (synthetic people only)."""

import uuid
from typing import Any

import httpx

from tests.support.builders import service_request
from tests.support.clients import bearer
from tests.support.messages import emis_patient, message

REFERRAL_WRITE = bearer("referral:write", "referral:read", "referral:all-organisations")
SCREENING_WRITE = bearer("screening:write", "screening:read", "screening:all-organisations")
DIRECTORY_WRITE = bearer("directory:write")
FHIR_JSON = {"Content-Type": "application/fhir+json"}
# The headers of a writer to each path the security tests post to.
WRITERS = {
    "/fhir/ServiceRequest": REFERRAL_WRITE,
    "/fhir/$process-message": REFERRAL_WRITE,
    "/fhir/QuestionnaireResponse": SCREENING_WRITE,
    "/organizations": DIRECTORY_WRITE,
}


def new_referral(**changes: Any) -> dict[str, Any]:
    """A valid referral with an identifier no other test uses."""
    return service_request(identifier=f"SEC-{uuid.uuid4()}", **changes)


def referral_message(**changes: Any) -> dict[str, Any]:
    """A valid new-referral message (with its Patient) no other test uses."""
    return message(
        new_referral(),
        patient=emis_patient(),
        reason_code="new",
        timestamp="2026-10-01T10:00:00Z",
        bundle_id=str(uuid.uuid4()),
        **changes,
    )


def issue(response: Any) -> dict[str, Any]:
    """The first issue of an OperationOutcome, or the first error of a problem+json body."""
    body = response.json()
    return body["issue"][0] if "issue" in body else body["errors"][0]


def named(response: Any) -> str:
    found = issue(response)
    return found["expression"][0] if "expression" in found else found["parameter"]


async def posted(
    client: httpx.AsyncClient, path: str, body: Any, headers: dict[str, str], status: int
) -> httpx.Response:
    """POSTs body as JSON and checks the answer has the status expected."""
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == status, response.text
    return response


async def element_refused(client: httpx.AsyncClient, path: str, body: Any, status: int) -> str:
    """POSTs body as JSON as a writer to `path`, checks it is refused with the status expected,
    and gives the element the refusal names."""
    return named(await posted(client, path, body, WRITERS[path], status))
