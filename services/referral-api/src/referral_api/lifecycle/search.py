"""Search parameters of the lifecycle resources (Task, Encounter, Observation)."""

from signpost_platform.errors import BadRequest
from signpost_platform.fhir.search import ID, LAST_UPDATED, SearchParameter

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
# The parameter naming the referral, per resource type.
REFERRAL_PARAMETER = {
    "Task": FOCUS,
    "Encounter": BASED_ON_ENCOUNTER,
    "Observation": BASED_ON_OBSERVATION,
}
PARAMETERS = {kind: [REFERRAL_PARAMETER[kind], ID, LAST_UPDATED] for kind in REFERRAL_PARAMETER}
ORDER = {"Task": "as_of", "Encounter": "contact_at", "Observation": "assessed_at"}


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
