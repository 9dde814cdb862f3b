"""Building the CapabilityStatement from what each service really supports."""

from collections.abc import Sequence
from datetime import UTC, datetime

from signpost_platform.fhir.search import SearchParameter
from signpost_platform.settings import ServiceSettings
from signpost_platform.smart import rest_security
from signpost_schemas.fhir.capability_statement import (
    CapabilityStatement,
    Implementation,
    Operation,
    ResourceInteraction,
    Rest,
    RestResource,
    SearchParam,
    Software,
)

# What every search of every Signpost FHIR service does besides its own parameters (the
# resources' searchParam lists); added to each CapabilityStatement's rest.documentation.
SEARCH_RULES = (
    "Every search takes the result parameters _count (more than the maximum page size is served "
    "as the maximum), _offset, _total (none, estimate, accurate), _summary (count, data, true, "
    "false), _elements (top-level elements; entries tagged SUBSETTED), _format (json) and "
    "_pretty, and _sort where the resource lists sort keys; jQuery's _ cache-buster is ignored. "
    "_id and _lastUpdated are taken where a resource lists them. Unknown parameters and "
    "parameters with an empty value are ignored and reported in an OperationOutcome entry "
    "(search.mode outcome), or refused with 400 under Prefer: handling=strict; a bad value or an "
    "unsupported modifier is refused with 400 either way. Every read and search also answers "
    "HEAD, If-None-Match and If-Modified-Since (304), and 406 to an Accept header that allows no "
    "JSON."
)


def search_params(parameters: Sequence[SearchParameter]) -> list[SearchParam]:
    return [
        SearchParam(
            name=p.name, type=p.type, documentation=p.documentation, definition=p.definition
        )
        for p in parameters
    ]


def capability_statement(
    *,
    settings: ServiceSettings,
    software: str,
    version: str,
    base_url: str,
    resources: list[RestResource],
    operations: list[Operation] | None = None,
    documentation: str | None = None,
    cors: bool = False,
) -> CapabilityStatement:
    return CapabilityStatement(
        date=datetime.now(UTC).date().isoformat(),
        software=Software(name=software, version=version),
        implementation=Implementation(description=software, url=base_url),
        rest=[
            Rest(
                documentation=f"{documentation} {SEARCH_RULES}" if documentation else SEARCH_RULES,
                security=rest_security(settings, fhir_base=base_url, cors=cors),
                resource=resources,
                operation=operations,
            )
        ],
    )


__all__ = [
    "SEARCH_RULES",
    "Operation",
    "ResourceInteraction",
    "RestResource",
    "capability_statement",
    "search_params",
]
