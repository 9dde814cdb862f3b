"""Questionnaire search parameters: one definition serves the parser, the OpenAPI document and
the CapabilityStatement (`QuestionnaireCatalogue.search` applies them)."""

from signpost_platform.fhir.search import ID, SearchParameter

Q = "http://hl7.org/fhir/SearchParameter/Questionnaire"

PARAMETERS = [
    ID,
    SearchParameter(
        "url",
        "uri",
        "The canonical URL of the questionnaire (exact)",
        f"{Q}-url",
        example="https://signpost.nhs.example/Questionnaire/barts-social-welfare-screening",
    ),
    SearchParameter(
        "name",
        "string",
        "The computable name (BartsSocialWelfareScreening); matches names that start with the "
        "value, ignoring case",
        f"{Q}-name",
        example="barts",
    ),
    SearchParameter(
        "version", "token", "The business version (exact)", f"{Q}-version", example="2023.1"
    ),
    SearchParameter(
        "status",
        "token",
        "draft, active, retired or unknown; comma-separated values OR",
        f"{Q}-status",
        example="active",
    ),
]
