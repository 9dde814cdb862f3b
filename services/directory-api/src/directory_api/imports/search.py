"""The query parameters of the bulk import (one definition serves the parser and the OpenAPI
document)."""

from signpost_platform.parameters import QueryParameter

IMPORT_PARAMETERS = (
    QueryParameter(
        "resume",
        "The id of a failed (or stale) import to carry on from its last committed batch; send "
        "the same export again",
        format="uuid",
    ),
)
