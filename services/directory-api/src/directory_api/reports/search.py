"""The query parameters of the curation reports (one definition serves the parser and the
OpenAPI document)."""

from signpost_platform.parameters import QueryParameter

MONTHS = QueryParameter(
    "months",
    "Services not assured within this many months are listed",
    type="integer",
    minimum=1,
    maximum=120,
    default=3,
)
