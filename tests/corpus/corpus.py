"""Reading the sender corpus, sending an input to the apps and checking what came back.

Each file in `inputs/` is one request as a sender makes it and the outcome Signpost owes it
(README.md in this folder describes the format). Expressions are compared without list indexes
and as prefixes: an expected `ServiceRequest.reasonCode` matches an issue at
`ServiceRequest.reasonCode[1].coding[0].code`. An issue inside a message names its entry
(`Bundle.entry[1].resource.reasonCode`); it is read as the entry's resource type
(`ServiceRequest.reasonCode`) before comparing.
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from signpost_schemas.fhir.gaps import DATA_GAP_SYSTEM
from tests.corpus.conftest import Stack
from tests.support.clients import bearer

INPUTS = Path(__file__).parent / "inputs"
GAP_CODES = {
    "not-recorded",
    "unmapped-code",
    "uncoded-text",
    "no-nhs-number",
    "not-interpreted",
    "removed-personal-data",
    "replaced-characters",
}
REFERRAL_READER = bearer("referral:read", "referral:all-organisations")
SCREENING_READER = bearer("screening:read", "screening:all-organisations")
_ENTRY = re.compile(r"^Bundle\.entry\[(\d+)\]\.resource(?=\.|$)")
_INDEX = re.compile(r"\[\d+\]")


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    description: str
    sender: str
    request: dict[str, Any]
    expect: dict[str, Any]

    @property
    def service(self) -> str:
        return str(self.request["service"])

    @property
    def kept(self) -> bool:
        return self.expect["outcome"] == "kept"

    @property
    def body(self) -> Any:
        return self.request["body"]

    def service_request(self) -> dict[str, Any] | None:
        """The ServiceRequest the input carries (itself, or a message's), if it has one."""
        body = self.body
        if not isinstance(body, dict):
            return None
        if body.get("resourceType") == "ServiceRequest":
            return body
        for entry in body.get("entry") or []:
            resource = entry.get("resource") or {}
            if resource.get("resourceType") == "ServiceRequest":
                return resource  # type: ignore[no-any-return]
        return None


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(INPUTS.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        cases.append(
            Case(
                path.stem,
                document["description"],
                document["sender"],
                document["request"],
                document["expect"],
            )
        )
    return cases


async def send(stack: Stack, case: Case) -> httpx.Response:
    """The input's request, as its sender makes it (a string body is sent byte for byte)."""
    request = case.request
    token = request.get("token") or {}
    headers = dict(request.get("headers") or {})
    if token:
        headers.update(bearer(*token["scopes"], ods=token.get("ods")))
    body = case.body
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    # An oversized body is stored small: the JSON padded with whitespace to this many bytes.
    content = content.ljust(int(request.get("pad_to_bytes") or 0), b" ")
    return await stack.client(case.service).request(
        request["method"], request["path"], content=content, headers=headers
    )


def status_matches(expected: int | str, actual: int) -> bool:
    if expected == "4xx":
        return 400 <= actual < 500
    return actual == expected


def normalise(expression: str, body: Any) -> str:
    """`Bundle.entry[1].resource.reasonCode[0]` → `ServiceRequest.reasonCode`."""
    match = _ENTRY.match(expression)
    if match and isinstance(body, dict):
        entries = body.get("entry") or []
        index = int(match.group(1))
        if index < len(entries) and isinstance(entries[index], dict):
            resource_type = (entries[index].get("resource") or {}).get("resourceType")
            if isinstance(resource_type, str):
                expression = resource_type + expression[match.end() :]
    return _INDEX.sub("", expression)


def names(actual: str, expected: str) -> bool:
    """Whether `actual` (normalised) is `expected` or an element below it.

    An expected expression without a resource type (`resourceType`) matches that element of any
    resource (`ServiceRequest.resourceType`).
    """

    def below(candidate: str) -> bool:
        if not candidate.startswith(expected):
            return False
        rest = candidate[len(expected) :]
        return rest == "" or not (rest[0].isalnum() or rest[0] == "_")

    if below(actual):
        return True
    if expected[:1].islower() and "." in actual:
        return below(actual.split(".", 1)[1])
    return False


def json_objects(document: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in `document`, itself included, at any depth."""
    if isinstance(document, dict):
        yield document
        for value in document.values():
            yield from json_objects(value)
    elif isinstance(document, list):
        for value in document:
            yield from json_objects(value)


def outcomes(document: Any) -> Iterator[dict[str, Any]]:
    """Every OperationOutcome in a response (itself, a Bundle entry or a contained one)."""
    for found in json_objects(document):
        if found.get("resourceType") == "OperationOutcome":
            yield found


def gaps_in(response: httpx.Response, body: Any) -> list[tuple[str, str]]:
    """(data-gap code, normalised expression) of each warning in the response."""
    try:
        document = response.json()
    except ValueError:
        return []
    found = []
    for outcome in outcomes(document):
        for issue in outcome.get("issue") or []:
            if issue.get("severity") != "warning":
                continue
            codes = [
                c.get("code")
                for c in (issue.get("details") or {}).get("coding") or []
                if c.get("system") == DATA_GAP_SYSTEM
            ]
            for code in codes:
                for expression in issue.get("expression") or [""]:
                    found.append((str(code), normalise(expression, body)))
    return found


def missing_warnings(case: Case, response: httpx.Response) -> list[dict[str, str]]:
    found = gaps_in(response, case.body)
    return [
        wanted
        for wanted in case.expect.get("warnings") or []
        if not any(
            code == wanted["code"] and names(expression, wanted["expression"])
            for code, expression in found
        )
    ]


def refusal_problems(case: Case, response: httpx.Response) -> list[str]:
    """What is wrong with a refusal's answer: not an OperationOutcome, or not naming the element."""
    try:
        document = response.json()
    except ValueError:
        return [f"the answer is not JSON: {response.text[:200]!r}"]
    if not isinstance(document, dict) or document.get("resourceType") != "OperationOutcome":
        return ["the answer is not an OperationOutcome"]
    errors = [
        issue
        for issue in document.get("issue") or []
        if issue.get("severity") in ("error", "fatal")
    ]
    if not errors:
        return ["the OperationOutcome has no error issue"]
    wanted = case.expect.get("refused_at")
    if not wanted:
        return []
    alternatives = [wanted] if isinstance(wanted, str) else list(wanted)
    expressions = [
        normalise(expression, case.body)
        for issue in errors
        for expression in issue.get("expression") or []
    ]
    if any(names(e, alternative) for e in expressions for alternative in alternatives):
        return []
    return [f"no error issue names {wanted}: {expressions}"]


async def readable(stack: Stack, case: Case, response: httpx.Response) -> str | None:
    """None when what the input created can be read back; otherwise why not."""
    if case.service == "screening":
        location = response.headers.get("Location", "")
        path = location[location.find("/fhir/") :] if "/fhir/" in location else ""
        if not path:
            return "no Location for the stored QuestionnaireResponse"
        read = await stack.screening.get(path, headers=SCREENING_READER)
        return None if read.status_code == 200 else f"GET {path} answered {read.status_code}"
    service_request = case.service_request()
    identifiers = (service_request or {}).get("identifier") or []
    if not identifiers:
        return "the input has no identifier to search by"
    identifier = identifiers[0]
    found = await stack.referral.get(
        "/fhir/ServiceRequest",
        params={"identifier": f"{identifier['system']}|{identifier['value']}"},
        headers=REFERRAL_READER,
    )
    if found.status_code != 200:
        return f"the search by identifier answered {found.status_code}"
    entries = found.json().get("entry") or []
    return None if len(entries) == 1 else f"the search by identifier found {len(entries)}"


async def stored_count(stack: Stack, service: str) -> int:
    """How many referrals (or screening responses) the service's database holds."""
    if service == "screening":
        engine = stack.screening_app.state.database.engine
        table = "questionnaire_response"
    else:
        engine = stack.referral_app.state.database.engine
        table = "referral"
    async with engine.connect() as connection:
        result = await connection.execute(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
        return int(result.scalar_one())
