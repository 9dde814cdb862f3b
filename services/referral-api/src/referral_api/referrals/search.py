"""ServiceRequest search parameters: one definition serves parsing and the CapabilityStatement."""

from dataclasses import dataclass, field

from signpost_platform.errors import BadRequest
from signpost_platform.fhir.search import (
    ID,
    LAST_UPDATED,
    DateRange,
    SearchParameter,
    SearchQuery,
    Token,
    parse_date,
    parse_token,
)
from signpost_schemas import systems
from signpost_schemas.nhs_number import InvalidNhsNumber, validate_nhs_number

SR = "http://hl7.org/fhir/SearchParameter/ServiceRequest"
PRIORITY_SYSTEM = "http://hl7.org/fhir/request-priority"
PRIORITIES = ("routine", "urgent", "asap", "stat")

PATIENT_DOCUMENTATION = (
    "The person: their NHS number (https://fhir.nhs.uk/Id/nhs-number|9434765919 or the "
    "number), or the sender's patient identifier as system|value "
    "(https://rio.example/patient-id|RIO-000123); all the person's referrals, including "
    "those filed under their other identifiers"
)
# The chained and :identifier forms of the person: all mean the same. Clients write the chain
# on `subject` too (fhirpy's `subject__identifier` is `subject.identifier`); were one of these
# ignored as unknown, a search for one person's referrals would answer everyone's.
PATIENT_PARAMETERS = (
    "patient.identifier",
    "patient:identifier",
    "subject:identifier",
    "subject.identifier",
    "subject:Patient.identifier",
)


def patient_parameters(definitions: str) -> list[SearchParameter]:
    """The person's search parameters of a resource whose standard definitions are at
    `definitions` (a chain, `patient.identifier` say, has no definition of its own)."""
    return [
        SearchParameter(
            name,
            "token",
            PATIENT_DOCUMENTATION,
            None if "." in name else f"{definitions}-{name.split(':')[0]}",
            example="https://fhir.nhs.uk/Id/nhs-number|9434765919",
        )
        for name in PATIENT_PARAMETERS
    ]


PARAMETERS = [
    ID,
    LAST_UPDATED,
    SearchParameter(
        "identifier",
        "token",
        "A business identifier of the referral: system|value or value",
        f"{SR}-identifier",
        example="https://emis.example/referral-id|EMIS-2026-000123",
    ),
    *patient_parameters(SR),
    SearchParameter(
        "status",
        "token",
        "ServiceRequest.status; comma-separated values OR",
        f"{SR}-status",
        example="active,on-hold",
    ),
    SearchParameter(
        "authored",
        "date",
        "The referral date, with eq, ge, gt, le or lt; repeat for a range "
        "(authored=ge2026-01-01&authored=le2026-03-31)",
        f"{SR}-authored",
        example="ge2026-01-01",
    ),
    SearchParameter(
        "performer-type",
        "token",
        "The role that received the referral (personalised-care-role code)",
        f"{SR}-performer-type",
        example="social-prescribing-link-worker",
    ),
    SearchParameter(
        "requester",
        "reference",
        "The referring organisation: Organization/<ODS code> (or the ODS code alone)",
        f"{SR}-requester",
        example="Organization/F84001",
    ),
    SearchParameter(
        "requester:identifier",
        "token",
        "The referring organisation's identifier: "
        "https://fhir.nhs.uk/Id/ods-organization-code|<ODS code>",
        f"{SR}-requester",
        example="https://fhir.nhs.uk/Id/ods-organization-code|F84001",
    ),
    SearchParameter(
        "performer",
        "reference",
        "The receiving organisation, as ServiceRequest.performer names it: Organization/<ODS "
        "code> (or the ODS code alone)",
        f"{SR}-performer",
        example="Organization/F84001",
    ),
    SearchParameter(
        "performer:identifier",
        "token",
        "The receiving organisation's identifier: "
        "https://fhir.nhs.uk/Id/ods-organization-code|<ODS code>",
        f"{SR}-performer",
        example="https://fhir.nhs.uk/Id/ods-organization-code|F84001",
    ),
    SearchParameter(
        "priority",
        "token",
        "ServiceRequest.priority: routine, urgent, asap or stat; comma-separated values OR",
        f"{SR}-priority",
        example="urgent",
    ),
    SearchParameter(
        "reason-code",
        "token",
        "Any of the referral's coded reasons (not only the first): system|code, code (any "
        "system) or |code (no system); comma-separated values OR, repeated parameters AND",
        f"{SR}-reason-code",
        example="http://snomed.info/sct|422650009",
    ),
]

LINK_TYPES = ("concurrent-other-role", "re-referral-of", "re-referred-as")
PARAMETERS.append(
    SearchParameter(
        "linkage",
        "token",
        "Referrals linked to another referral of the same person: concurrent-other-role (another "
        "role at the same time), re-referral-of, re-referred-as, or any; comma-separated values OR",
        example="any",
    )
)

SORT_KEYS = {"authored": "authored_at", "_lastUpdated": "last_updated_at"}
DEFAULT_SORT = [("last_updated_at", True)]


@dataclass
class ReferralFilter:
    """A validated referral search, ready for the repository."""

    ids: list[list[str]] = field(default_factory=list)
    last_updated: list[DateRange] = field(default_factory=list)
    identifiers: list[list[Token]] = field(default_factory=list)
    # (system, value) of each person named; NHS numbers validated.
    patients: list[list[tuple[str, str]]] = field(default_factory=list)
    statuses: list[list[str]] = field(default_factory=list)
    authored: list[DateRange] = field(default_factory=list)
    roles: list[list[str]] = field(default_factory=list)
    requesters: list[list[str]] = field(default_factory=list)
    performers: list[list[str]] = field(default_factory=list)
    priorities: list[list[str]] = field(default_factory=list)
    reasons: list[list[Token]] = field(default_factory=list)
    linkage: list[list[str]] = field(default_factory=list)
    count: int = 20
    offset: int = 0
    sort: list[tuple[str, bool]] = field(default_factory=lambda: list(DEFAULT_SORT))
    with_total: bool = True


def referral_filter(query: SearchQuery) -> ReferralFilter:
    """Translate parsed FHIR parameters into a `ReferralFilter`, validating each value."""
    return ReferralFilter(
        ids=query.ids(),
        last_updated=query.last_updated(),
        identifiers=[
            [parse_token("identifier", v) for v in o] for o in query.occurrences("identifier")
        ],
        patients=[
            [patient_value(name, v) for v in o]
            for name in PATIENT_PARAMETERS
            for o in query.occurrences(name)
        ],
        statuses=query.occurrences("status"),
        authored=[parse_date("authored", v) for v in query.values.get("authored", [])],
        roles=[
            [system_code("performer-type", v, systems.PERSONALISED_CARE_ROLE) for v in o]
            for o in query.occurrences("performer-type")
        ],
        requesters=organisations(query, "requester"),
        performers=organisations(query, "performer"),
        priorities=[[_priority(v) for v in o] for o in query.occurrences("priority")],
        reasons=[
            [parse_token("reason-code", v) for v in o] for o in query.occurrences("reason-code")
        ],
        linkage=[[_link_type(v) for v in o] for o in query.occurrences("linkage")],
        count=query.rows_read,
        offset=query.offset,
        sort=query.sort,
        with_total=query.total,
    )


def organisations(query: SearchQuery, name: str) -> list[list[str]]:
    """The ODS codes of each occurrence of `name` (a reference) and `name:identifier` (a token)."""
    by_reference = [[_organisation(name, v) for v in o] for o in query.occurrences(name)]
    by_identifier = [
        [system_code(f"{name}:identifier", v, systems.ODS_ORGANIZATION).upper() for v in o]
        for o in query.occurrences(f"{name}:identifier")
    ]
    return by_reference + by_identifier


def _organisation(name: str, value: str) -> str:
    """`Organization/<ODS>` (relative or absolute), the bare code, or (as before) a token."""
    if "/" in value and "|" not in value:
        kind, _, code = value.rstrip("/").rpartition("/")
        if kind.rsplit("/", 1)[-1] != "Organization" or not code:
            raise BadRequest(
                f"{name}: a reference must be Organization/<ODS code> (got {value!r})",
                expression=name,
            )
        return code.upper()
    return system_code(name, value, systems.ODS_ORGANIZATION).upper()


def system_code(name: str, value: str, expected_system: str) -> str:
    token = parse_token(name, value)
    if token.system not in (None, "", expected_system) and (
        systems.normalise_system(token.system) != expected_system
    ):
        raise BadRequest(f"{name}: the system must be {expected_system}", expression=name)
    return token.code


def _priority(value: str) -> str:
    code = system_code("priority", value, PRIORITY_SYSTEM)
    if code not in PRIORITIES:
        raise BadRequest(
            f"priority must be one of {', '.join(PRIORITIES)} (got {code!r})",
            expression="priority",
        )
    return code


def _link_type(value: str) -> str:
    if value != "any" and value not in LINK_TYPES:
        raise BadRequest(
            f"linkage must be any or one of {', '.join(LINK_TYPES)} (got {value!r})",
            expression="linkage",
        )
    return value


def patient_value(name: str, value: str) -> tuple[str, str]:
    """An NHS number (with or without its system), or a local identifier with its system."""
    token = parse_token(name, value)
    system = systems.normalise_system(token.system) if token.system else systems.NHS_NUMBER
    if system != systems.NHS_NUMBER:
        return system, token.code
    try:
        return system, validate_nhs_number(token.code)
    except InvalidNhsNumber as error:
        raise BadRequest(
            f"{name}: {error} (a sender's patient identifier needs its system: system|value)",
            expression=name,
        ) from None
