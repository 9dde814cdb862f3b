"""The query parameters of the taxonomy and term lists (one definition serves the parser and
the OpenAPI document)."""

from directory_api.oruk.params import LIST_PARAMETERS
from signpost_platform.parameters import QueryParameter

TAXONOMY_PARAMETERS = LIST_PARAMETERS
TERM_PARAMETERS = (
    *LIST_PARAMETERS,
    QueryParameter("taxonomy_id", "Terms of this taxonomy", format="uuid"),
    QueryParameter("top_only", "true: only terms with no parent term", type="boolean"),
    QueryParameter("parent_id", "Terms whose parent is this term", format="uuid"),
)
