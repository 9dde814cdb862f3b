"""The parameters of a `$export` kick-off (FHIR Bulk Data Access IG v2), declared once for the
parser and the OpenAPI document, and what they are read into."""

from dataclasses import dataclass
from datetime import datetime

from referral_api.export.sources import EXPORTABLE_TYPES
from signpost_platform.errors import BadRequest, NotFound
from signpost_platform.fhir.search import FORMAT, PRETTY, parse_date
from signpost_platform.parameters import QueryParameter
from signpost_schemas.codes import catalogue

NDJSON_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")

TYPE = QueryParameter(
    "_type",
    "The resource types to export, comma-separated (default: all of "
    f"{', '.join(EXPORTABLE_TYPES)}); another type is refused",
    example="ServiceRequest,Task",
)
SINCE = QueryParameter(
    "_since",
    "Only resources changed after this instant (meta.lastUpdated), a FHIR instant with a time zone",
    format="date-time",
    example="2026-11-01T00:00:00Z",
)
OUTPUT_FORMAT = QueryParameter(
    "_outputFormat",
    "The format of the files: application/fhir+ndjson (the default; application/ndjson and "
    "ndjson mean the same)",
    enum=NDJSON_FORMATS,
)
PSEUDONYMISE = QueryParameter(
    "_pseudonymise",
    "true: each person is named by their pseudonym (the keyed HMAC person key reports count "
    "by) instead of their NHS number, and other direct identifiers are left out. Always so "
    "for a caller without the scope referral:export-identifiable",
    type="boolean",
    default=False,
)
PARAMETERS = (TYPE, SINCE, OUTPUT_FORMAT, PSEUDONYMISE)
# What the kick-off declares: its own, and FHIR's general parameters (the middleware serves
# `_format`; the answer is compact JSON whatever `_pretty` says).
DECLARED = (*PARAMETERS, FORMAT, PRETTY)
_BOOLEANS = {"true": True, "false": False}


@dataclass(frozen=True, slots=True)
class Group:
    """A Group of referrals exported together: `organization-<ODS>` (the referrals an
    organisation received: ServiceRequest.performer) or `role-<code>` (the referrals to a
    personalised-care role)."""

    id: str
    receiver_ods: str | None = None
    role: str | None = None


@dataclass(frozen=True, slots=True)
class ExportRequest:
    resource_types: tuple[str, ...]
    since: datetime | None
    pseudonymise: bool


def read_request(values: dict[str, list[str]]) -> ExportRequest:
    """The kick-off's parameters (unknown ones were ignored or refused by the caller)."""
    types: tuple[str, ...] = EXPORTABLE_TYPES
    if values.get(TYPE.name):
        asked = [t.strip() for value in values[TYPE.name] for t in value.split(",") if t.strip()]
        unknown = [t for t in asked if t not in EXPORTABLE_TYPES]
        if unknown:
            raise BadRequest(
                f"_type: {', '.join(unknown)} cannot be exported; the types are "
                f"{', '.join(EXPORTABLE_TYPES)}",
                expression=TYPE.name,
                issue_code="not-supported",
            )
        types = tuple(t for t in EXPORTABLE_TYPES if t in asked)
    since = None
    if values.get(SINCE.name):
        since = parse_date(SINCE.name, values[SINCE.name][-1]).start
    for value in values.get(OUTPUT_FORMAT.name, []):
        if value not in NDJSON_FORMATS:
            raise BadRequest(
                f"_outputFormat: only {NDJSON_FORMATS[0]} is written (got {value!r})",
                expression=OUTPUT_FORMAT.name,
                issue_code="not-supported",
            )
    pseudonymise = False
    for value in values.get(PSEUDONYMISE.name, []):
        if value not in _BOOLEANS:
            raise BadRequest("_pseudonymise must be true or false", expression=PSEUDONYMISE.name)
        pseudonymise = _BOOLEANS[value]
    return ExportRequest(types, since, pseudonymise)


def read_group(group_id: str) -> Group:
    """The Group a Group-level export names; 404 for any other id."""
    kind, _, value = group_id.partition("-")
    if kind == "organization" and value and value == value.upper() and value.isalnum():
        return Group(group_id, receiver_ods=value)
    if kind == "role" and any(
        concept.code == value for concept in catalogue.personalised_care_roles()
    ):
        return Group(group_id, role=value)
    raise NotFound(
        f"no Group {group_id}: a Group is organization-<ODS code> (the referrals it received) "
        "or role-<personalised-care role code>",
        expression="id",
    )


def query_values(items: list[tuple[str, str]], strict: bool) -> dict[str, list[str]]:
    """The kick-off's parameters by name. Any other parameter is ignored, or refused under
    `Prefer: handling=strict`."""
    known = {parameter.name for parameter in DECLARED}
    values: dict[str, list[str]] = {}
    for name, value in items:
        if name in known:
            values.setdefault(name, []).append(value)
        elif strict:
            raise BadRequest(
                f"unknown parameter {name!r} of $export; supported: {', '.join(sorted(known))}",
                expression=name,
                issue_code="not-supported",
            )
    return values
