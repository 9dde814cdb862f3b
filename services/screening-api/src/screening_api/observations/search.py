"""Observation search: its parameters (shared with the CapabilityStatement) and the filter they
parse into, ready for the repository."""

from dataclasses import dataclass, field

from screening_api.questionnaires.tools import OBSERVATION_CATEGORY
from signpost_platform.errors import BadRequest
from signpost_platform.fhir.search import ID, SearchParameter, SearchQuery, Token, parse_token
from signpost_schemas import systems
from signpost_schemas.nhs_number import InvalidNhsNumber, validate_nhs_number

OBS = "http://hl7.org/fhir/SearchParameter/Observation"
DOMAIN_SYSTEM = (
    "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
)

# No _lastUpdated: the table's last_updated_at holds the screen's date, not meta.lastUpdated.
PARAMETERS = [
    ID,
    SearchParameter(
        "derived-from",
        "reference",
        "The response it was extracted from: QuestionnaireResponse/<id>",
        f"{OBS}-derived-from",
        example="QuestionnaireResponse/7d3c9a1e-0b1f-4b55-9d0e-1f2a3b4c5d6e",
    ),
    SearchParameter(
        "patient.identifier",
        "token",
        "The person's NHS number: https://fhir.nhs.uk/Id/nhs-number|9434765919 or the number",
        example="https://fhir.nhs.uk/Id/nhs-number|9434765919",
    ),
    SearchParameter("code", "token", "The question's code: system|code or code", f"{OBS}-code"),
    SearchParameter(
        "category",
        "token",
        "survey (every Observation), social-history (the risk questions' Observations) or a "
        "social-need domain (SDOH domain code, such as food-insecurity)",
        f"{OBS}-category",
        example="social-history",
    ),
    SearchParameter(
        "interpretation",
        "token",
        "POS for answers that flag a possible need",
        f"{OBS}-interpretation",
        example="POS",
    ),
]


@dataclass(frozen=True, slots=True)
class CategoryMatch:
    """One `category` parameter's values, ORed: every Observation (`survey`), those of risk
    questions (`social-history`: they have a domain), or those of the listed domains."""

    every: bool = False
    risk_questions: bool = False
    domains: tuple[str, ...] = ()


@dataclass
class ObservationFilter:
    """A parsed Observation search: each list ANDs, each inner list ORs."""

    response_ids: list[list[str]]
    nhs_numbers: list[list[str]]
    codes: list[list[Token]]
    categories: list[CategoryMatch]
    positive: bool | None
    count: int
    offset: int
    ids: list[list[str]] = field(default_factory=list)


def observation_filter(query: SearchQuery) -> ObservationFilter:
    response_ids = [
        [_response_id(value) for value in values] for values in query.occurrences("derived-from")
    ]
    nhs_numbers = [
        [_nhs_number(value) for value in values]
        for values in query.occurrences("patient.identifier")
    ]
    code_tokens = [
        [parse_token("code", value) for value in values] for values in query.occurrences("code")
    ]
    categories = [
        _category_match([parse_token("category", value) for value in values])
        for values in query.occurrences("category")
    ]
    positive = None
    for values in query.occurrences("interpretation"):
        codes = {parse_token("interpretation", value).code for value in values}
        if codes != {"POS"}:
            raise BadRequest("interpretation supports POS only", expression="interpretation")
        positive = True
    return ObservationFilter(
        response_ids,
        nhs_numbers,
        code_tokens,
        categories,
        positive,
        query.rows_read,
        query.offset,
        ids=query.ids(),
    )


def _category_match(tokens: list[Token]) -> CategoryMatch:
    """What one `category` parameter asks for (an unknown category matches nothing)."""
    kinds = {t.code for t in tokens if t.system in (None, OBSERVATION_CATEGORY)}
    return CategoryMatch(
        every="survey" in kinds,
        risk_questions="social-history" in kinds,
        domains=tuple(t.code for t in tokens if t.system in (None, DOMAIN_SYSTEM)),
    )


def _response_id(value: str) -> str:
    kind, _, identifier = value.rpartition("/")
    if kind.split("/")[-1] not in ("QuestionnaireResponse", "") or not identifier:
        raise BadRequest("derived-from takes QuestionnaireResponse/<id>", expression="derived-from")
    return identifier


def _nhs_number(value: str) -> str:
    token = parse_token("patient.identifier", value)
    if token.system and systems.normalise_system(token.system) != systems.NHS_NUMBER:
        raise BadRequest(
            f"patient.identifier takes the NHS number system {systems.NHS_NUMBER}",
            expression="patient.identifier",
        )
    try:
        return validate_nhs_number(token.code)
    except InvalidNhsNumber as error:
        raise BadRequest(f"patient.identifier: {error}", expression="patient.identifier") from None
