"""Building the CapabilityStatement from what each service really supports."""

from collections.abc import Sequence
from datetime import UTC, datetime

from signpost_platform.fhir.search import SearchParameter
from signpost_schemas.fhir.capability_statement import (
    CapabilityStatement,
    Implementation,
    Operation,
    ResourceInteraction,
    Rest,
    RestResource,
    RestSecurity,
    SearchParam,
    Software,
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
                documentation=documentation,
                security=RestSecurity(
                    cors=cors,
                    description="OAuth2 bearer token (JWT) with scopes per operation",
                ),
                resource=resources,
                operation=operations,
            )
        ],
    )


__all__ = [
    "Operation",
    "ResourceInteraction",
    "RestResource",
    "capability_statement",
    "search_params",
]
