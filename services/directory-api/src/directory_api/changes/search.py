"""The query parameters of the change feed (one definition serves the parser and the OpenAPI
document)."""

from signpost_platform.parameters import QueryParameter

KINDS = ("service", "organization", "location", "taxonomy", "taxonomy_term")
PARAMETERS = (
    QueryParameter(
        "afterChangeNumber",
        "Changes after this change number: 0 to start, then the number in `next`",
        type="integer",
        minimum=0,
        maximum=2**62,
        default=0,
    ),
    QueryParameter(
        "limit", "Changes in one page", type="integer", minimum=1, maximum=500, default=100
    ),
    QueryParameter(
        "kind",
        "Only these kinds of record (comma-separated or repeated: any of them)",
        enum=KINDS,
        repeatable=True,
    ),
)
