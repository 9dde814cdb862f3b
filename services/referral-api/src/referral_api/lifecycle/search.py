"""Search parameters of the lifecycle resources (Task, Encounter, Observation)."""

from signpost_platform.errors import BadRequest
from signpost_platform.fhir.search import (
    ID,
    LAST_UPDATED,
    SearchParameter,
    SearchQuery,
    Token,
    parse_token,
)

EXAMPLE_REFERRAL = "ServiceRequest/2f1c6a0e-4b7d-4c1e-9f3a-0d5b8e7c6a21"

FOCUS = SearchParameter(
    "focus",
    "reference",
    "The referral: ServiceRequest/<id> or the id; comma-separated values OR",
    "http://hl7.org/fhir/SearchParameter/Task-focus",
    example=EXAMPLE_REFERRAL,
)
BASED_ON_ENCOUNTER = SearchParameter(
    "based-on",
    "reference",
    "The referral: ServiceRequest/<id> or the id; comma-separated values OR",
    "http://hl7.org/fhir/SearchParameter/Encounter-based-on",
    example=EXAMPLE_REFERRAL,
)
BASED_ON_OBSERVATION = SearchParameter(
    "based-on",
    "reference",
    "The referral: ServiceRequest/<id> or the id; comma-separated values OR",
    "http://hl7.org/fhir/SearchParameter/Observation-based-on",
    example=EXAMPLE_REFERRAL,
)
BASED_ON_PROCEDURE = SearchParameter(
    "based-on",
    "reference",
    "The referral: ServiceRequest/<id> or the id; comma-separated values OR",
    "http://hl7.org/fhir/SearchParameter/Procedure-based-on",
    example=EXAMPLE_REFERRAL,
)
EXAMPLE_WORKER = "https://emis.example/Id/staff|LW-0042"


def _worker_parameters(element: str, what: str, definition: str) -> tuple[SearchParameter, ...]:
    """The chained and :identifier forms of a worker reference (`participant.identifier`,
    `participant:identifier`): both mean the same, as patient.identifier and
    patient:identifier do for ServiceRequest."""
    return tuple(
        SearchParameter(
            name,
            "token",
            f"{what}: the sender's staff identifier as system|value (or the value in any "
            "system); comma-separated values OR",
            None if "." in name else definition,
            example=EXAMPLE_WORKER,
        )
        for name in (f"{element}.identifier", f"{element}:identifier")
    )


PARTICIPANT = _worker_parameters(
    "participant",
    "A worker who took part in the contact (Encounter.participant)",
    "http://hl7.org/fhir/SearchParameter/Encounter-participant",
)
OWNER = _worker_parameters(
    "owner",
    "The worker who holds the referral (Task.owner)",
    "http://hl7.org/fhir/SearchParameter/Task-owner",
)
# The parameter naming the referral, and those naming a worker, per resource type.
REFERRAL_PARAMETER = {
    "Task": FOCUS,
    "Encounter": BASED_ON_ENCOUNTER,
    "Observation": BASED_ON_OBSERVATION,
    "Procedure": BASED_ON_PROCEDURE,
}
WORKER_PARAMETERS: dict[str, tuple[SearchParameter, ...]] = {
    "Task": OWNER,
    "Encounter": PARTICIPANT,
    "Observation": (),
    "Procedure": (),
}
PARAMETERS = {
    kind: [REFERRAL_PARAMETER[kind], *WORKER_PARAMETERS[kind], ID, LAST_UPDATED]
    for kind in REFERRAL_PARAMETER
}
ORDER = {
    "Task": "as_of",
    "Encounter": "contact_at",
    "Observation": "assessed_at",
    "Procedure": "performed_at",
}


def referral_ids(name: str, values: list[list[str]]) -> list[list[str]]:
    """`ServiceRequest/abc` or `abc` → `abc`, per occurrence."""
    result = []
    for occurrence in values:
        ids = []
        for value in occurrence:
            kind, _, identifier = value.rpartition("/")
            if kind not in ("", "ServiceRequest") or not identifier:
                raise BadRequest(
                    f"{name} must name a ServiceRequest (got {value!r})", expression=name
                )
            ids.append(identifier)
        result.append(ids)
    return result


def workers(resource_type: str, query: SearchQuery) -> list[list[Token]]:
    """The worker occurrences of a search (they AND; each one's values OR), as tokens."""
    return [
        [parse_token(parameter.name, value) for value in occurrence]
        for parameter in WORKER_PARAMETERS[resource_type]
        for occurrence in query.occurrences(parameter.name)
    ]
