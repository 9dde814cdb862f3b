"""Every operation of the three services holds under hostile input, on SQLite and PostgreSQL.

The requests come from each service's own OpenAPI document (`tests.security.hostile`): every
search and list parameter, every element of every documented write body, every header of those
writes and every item id, so a new operation is covered when it is documented. PostgreSQL is
where such values used to surface as 500s (it holds no NUL in text, no year 0 and its own
limits on numbers), so both backends run: every write case, and the search values that get past
the checks every route shares (a NUL or a repeated parameter is refused there, alike on both).
Every answer must be below 500, and a refusal must say what it refuses: an OperationOutcome
under /fhir, a problem document elsewhere, naming the element or parameter or, when the request
could not be read at all, saying why.
"""

import json
import re
import uuid
from typing import Any

import httpx
import pytest

from tests.openapi.spec_rules import every_scope
from tests.security.conftest import Service
from tests.security.hostile import HostileCase, body_cases, id_cases, query_cases
from tests.support.documented import (
    NHS_NUMBER_SYSTEM,
    CreateRounds,
    body_example,
    collection_of,
    fresh,
)

SERVICES = ("referral", "directory", "screening")
# A record a write names by id is made from that write's own example; these kinds of record
# are only editable in another state than their example's.
EDITABLE = {"QuestionnaireResponse": {"status": "in-progress"}}
# An example naming a referral by id (a CarePlan's basedOn) names one made by the ServiceRequest
# example, whose id the server assigns: the id of a stored referral is put in its place.
_NHS_NUMBER = re.compile(r'"system": "https://fhir\.nhs\.uk/Id/nhs-number", "value": "[0-9]{10}"')
_REFERRAL = re.compile(
    r"ServiceRequest/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)


@pytest.fixture(params=SERVICES)
def service(
    request: pytest.FixtureRequest,
    referral_service: Service,
    directory_service: Service,
    screening_service: Service,
) -> Service:
    """Each service in turn (the three run for the session anyway)."""
    return {
        "referral": referral_service,
        "directory": directory_service,
        "screening": screening_service,
    }[request.param]


async def test_every_search_list_and_read_holds_under_hostile_values(
    service: Service, backend: str
) -> None:
    app, client = service
    document = app.openapi()
    headers = every_scope(document)
    cases = [*query_cases(document), *id_cases(document)]
    if backend == "postgresql":  # the rest are refused by the shared checks, before any SQL
        cases = [case for case in cases if case.reaches_database]
    failures = []
    for case in cases:
        url = f"{case.path}?{case.query}" if case.query else case.path
        answer = await _send(
            client, case.method, url, {**headers, **_content_type(case)}, case.body
        )
        failures += _faults(case, answer)

    assert not failures, "\n".join(failures)


async def test_every_write_holds_under_hostile_values(service: Service) -> None:
    app, client = service
    document = app.openapi()
    headers = every_scope(document)
    await _create_documented_records(client, document, headers)
    targets = _Targets(client, document, headers)
    failures = []
    for case in body_cases(document):
        url, body, extra = await targets.prepare(case)
        if _REFERRAL.search(json.dumps(body)):  # a care plan: a referral of its person
            body = _naming(body, await _a_referral(client, document, headers, body))
        answer = await _send(
            client,
            case.method,
            url,
            {**headers, **_content_type(case), **extra, **case.headers},
            json.dumps(case.content(body)),
        )
        targets.used(case, answer)
        failures += _faults(case, answer)

    assert not failures, "\n".join(failures)


async def _send(
    client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str], body: Any
) -> httpx.Response | Exception:
    try:
        return await client.request(method.upper(), url, headers=headers, content=body)
    except Exception as error:  # an unhandled error in the app: what a client sees as a 500
        return error


def _content_type(case: HostileCase) -> dict[str, str]:
    return {"Content-Type": case.media_type} if case.media_type else {}


def _faults(case: HostileCase, answer: httpx.Response | Exception) -> list[str]:
    """What is wrong with the answer to `case`: a 5xx, or a refusal that names nothing."""
    if isinstance(answer, Exception):
        return [f"{case}: raised {type(answer).__name__}: {str(answer)[:200]}"]
    if answer.status_code >= 500:
        return [f"{case}: {answer.status_code} {answer.text[:200]}"]
    if answer.status_code < 400:
        return []
    if not _names_something(case.path, answer):
        return [f"{case}: {answer.status_code} names nothing: {answer.text[:200]}"]
    return []


def _names_something(path: str, answer: httpx.Response) -> bool:
    """Whether a refusal names what it refuses: an unprocessable value (422) by its element or
    parameter, which the database's own refusal (the last line of defence) never does; any
    other refusal by its element or parameter, or by saying why (an unreadable body)."""
    try:
        body = answer.json()
    except ValueError:
        return False
    if path.startswith("/fhir"):
        if body.get("resourceType") != "OperationOutcome" or not body.get("issue"):
            return False
        issue = body["issue"][0]
        named, said = bool(issue.get("expression")), bool(issue.get("diagnostics"))
        return bool(issue.get("code")) and (named or (said and answer.status_code != 422))
    if body.get("status") != answer.status_code:
        return False
    named = bool((body.get("errors") or [{}])[0].get("parameter"))
    return named or (bool(body.get("detail")) and answer.status_code != 422)


async def _create_documented_records(
    client: httpx.AsyncClient, document: dict[str, Any], headers: dict[str, str]
) -> None:
    """Send every documented create as it is, until the records the examples name exist (a
    service's example names the organisation and location of the other examples)."""
    rounds = CreateRounds(document)
    for path, media_type, example in rounds:
        if _REFERRAL.search(json.dumps(example)):
            example = _naming(example, await _a_referral(client, document, headers, example))
        answer = await client.post(
            path,
            content=json.dumps(example),
            headers={**headers, "Content-Type": media_type},
        )
        if answer.status_code >= 300:
            rounds.again((path, media_type, example))


async def _a_referral(
    client: httpx.AsyncClient,
    document: dict[str, Any],
    headers: dict[str, str],
    person_of: Any = None,
) -> str | None:
    """A reference to a new referral made from the ServiceRequest example under an identifier
    of its own, for the person `person_of` names by NHS number (else the example's person),
    when the service has referrals."""
    if "/fhir/ServiceRequest" not in document["paths"]:
        return None
    create = body_example(document["paths"]["/fhir/ServiceRequest"]["post"])
    assert create is not None, "the ServiceRequest create has no documented example"
    body = fresh(create[1])
    nhs_numbers = _nhs_numbers(person_of)
    if nhs_numbers:
        _name_person(body, nhs_numbers[0])
    body["identifier"][0]["value"] = f"{body['identifier'][0]['value']}-{uuid.uuid4().hex[:8]}"
    answer = await client.post(
        "/fhir/ServiceRequest",
        content=json.dumps(body),
        headers={**headers, "Content-Type": create[0]},
    )
    assert answer.status_code == 201, f"could not make a referral: {answer.text[:300]}"
    return f"ServiceRequest/{answer.json()['id']}"


def _nhs_numbers(node: Any) -> list[str]:
    """The NHS numbers `node` names, in order."""
    if isinstance(node, list):
        return [found for item in node for found in _nhs_numbers(item)]
    if not isinstance(node, dict):
        return []
    own = [node["value"]] if node.get("system") == NHS_NUMBER_SYSTEM else []
    return own + [found for value in node.values() for found in _nhs_numbers(value)]


def _name_person(node: Any, nhs_number: str) -> None:
    """Make every NHS number `node` names `nhs_number`."""
    if isinstance(node, list):
        for item in node:
            _name_person(item, nhs_number)
    elif isinstance(node, dict):
        if node.get("system") == NHS_NUMBER_SYSTEM:
            node["value"] = nhs_number
        for value in node.values():
            _name_person(value, nhs_number)


def _naming(body: Any, referral: str | None) -> Any:
    """`body` with every reference to a referral by id naming `referral` instead."""
    if referral is None:
        return body
    return json.loads(_REFERRAL.sub(referral, json.dumps(body)))


class _Targets:
    """The records the writes to an item (`PUT /services/{id}`) change: one per operation, made
    from the operation's own example (a create's, for actions such as assure), and made anew
    after a write to it succeeds."""

    def __init__(
        self, client: httpx.AsyncClient, document: dict[str, Any], headers: dict[str, str]
    ) -> None:
        self.client = client
        self.document = document
        self.headers = headers
        self.current: dict[tuple[str, str], tuple[str, str | None]] = {}

    async def prepare(self, case: HostileCase) -> tuple[str, Any, dict[str, str]]:
        """The URL, the body before the hostile value goes in, and the If-Match to send."""
        body = fresh(case.body)
        if "{" not in case.path:
            return case.path, body, {}
        key = (case.method, case.path)
        if key not in self.current:
            self.current[key] = await self._create(case)
        record_id, etag = self.current[key]
        if isinstance(body, dict) and ("id" in body or "resourceType" in body):
            body["id"] = record_id
        url = re.sub(r"\{[^}]+\}", record_id, case.path)
        return url, body, ({"If-Match": etag} if etag else {})

    def used(self, case: HostileCase, answer: httpx.Response | Exception) -> None:
        if isinstance(answer, httpx.Response) and answer.status_code < 300:
            self.current.pop((case.method, case.path), None)

    async def _create(self, case: HostileCase) -> tuple[str, str | None]:
        collection = collection_of(case.path)
        source = case.body
        if case.method != "put":
            create = body_example(self.document["paths"][collection]["post"])
            assert create is not None, f"{case}: no documented create to make the record with"
            source = create[1]
        body = fresh(source)
        if isinstance(body, dict) and _REFERRAL.search(json.dumps(body)):
            # A record per referral (a care plan): each target is based on a new referral.
            referral = await _a_referral(self.client, self.document, self.headers, body)
            body = _naming(body, referral)
        if isinstance(body, dict) and "resourceType" in body:
            body.pop("id", None)
            body.update(EDITABLE.get(body["resourceType"], {}))
        answer = await self.client.post(
            collection,
            content=json.dumps(body),
            headers={**self.headers, "Content-Type": case.media_type or "application/json"},
        )
        assert answer.status_code in (200, 201), f"{case}: could not make its record: {answer.text}"
        return answer.json()["id"], answer.headers.get("etag")
