"""Search parameters of Consent, and the filter they are read into."""

from referral_api.consent.repository import ConsentFilter
from signpost_platform.errors import BadRequest
from signpost_platform.fhir.search import (
    ID,
    LAST_UPDATED,
    SearchParameter,
    SearchQuery,
    parse_token,
)
from signpost_schemas import systems

STATUSES = ("draft", "proposed", "active", "rejected", "inactive", "entered-in-error")

PATIENT = tuple(
    SearchParameter(
        name,
        "token",
        "The person's NHS number as system|value (or the value); comma-separated values OR",
        None if "." in name else "http://hl7.org/fhir/SearchParameter/clinical-patient",
        example=f"{systems.NHS_NUMBER}|9434765919",
    )
    for name in ("patient.identifier", "patient:identifier")
)
STATUS = SearchParameter(
    "status",
    "token",
    f"The Consent's status ({', '.join(STATUSES)}); comma-separated values OR",
    "http://hl7.org/fhir/SearchParameter/Consent-status",
    example="active",
)
PARAMETERS = [*PATIENT, STATUS, ID, LAST_UPDATED]


def consent_filter(query: SearchQuery) -> ConsentFilter:
    nhs_numbers = []
    for parameter in PATIENT:
        for occurrence in query.occurrences(parameter.name):
            values = []
            for value in occurrence:
                token = parse_token(parameter.name, value)
                if token.system not in (None, systems.NHS_NUMBER):
                    raise BadRequest(
                        f"{parameter.name}: a person is searched by NHS number "
                        f"({systems.NHS_NUMBER}|<number>)",
                        expression=parameter.name,
                    )
                values.append(token.code)
            nhs_numbers.append(values)
    return ConsentFilter(
        nhs_numbers=nhs_numbers,
        statuses=query.occurrences(STATUS.name),
        ids=query.ids(),
        last_updated=query.last_updated(),
    )
