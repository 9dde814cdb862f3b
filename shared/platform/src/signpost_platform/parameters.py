"""Query parameters defined once: read by the code, declared in the OpenAPI document.

A route that reads its query string itself (a FHIR search, an ORUK list) gets its parameters from
the same definitions it parses with, through `declare`:

    @router.get("/things", openapi_extra=declare(THING_PARAMETERS))

so a parameter cannot be accepted without being documented, or documented without being accepted.
FHIR searches turn their `SearchParameter`s into these with `fhir.search.search_definitions`.

Routes that take their parameters as FastAPI arguments are documented by FastAPI; the app refuses
any other parameter on them (`check_parameters`), as the routes that read the query string
themselves do.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from signpost_platform.errors import BadRequest, is_fhir_path, route_path

ValueType = Literal["string", "integer", "number", "boolean"]

# Each repeated or comma-separated value of a search becomes a condition of its SQL; hundreds of
# them made PostgreSQL spend seconds planning one query. No legitimate client needs more.
MAX_OCCURRENCES = 10
MAX_VALUES = 50


@dataclass(frozen=True, slots=True)
class QueryParameter:
    """One query parameter: its name, meaning and the values it takes.

    `repeatable` parameters take several values, repeated (`kind=a&kind=b`) or, where the
    description says so, comma-separated; they are declared as arrays (`style: form`,
    `explode: true`). Bounds and `enum` describe one value.
    """

    name: str
    description: str
    type: ValueType = "string"
    format: str | None = None
    enum: tuple[str, ...] = ()
    pattern: str | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    exclusive_minimum: int | float | None = None
    default: str | int | float | bool | None = None
    repeatable: bool = False
    example: str | int | float | None = None

    def value_schema(self) -> dict[str, Any]:
        """The JSON schema of one value."""
        schema: dict[str, Any] = {"type": self.type}
        for key, value in (
            ("format", self.format),
            ("pattern", self.pattern),
            ("minimum", self.minimum),
            ("maximum", self.maximum),
            ("exclusiveMinimum", self.exclusive_minimum),
        ):
            if value is not None:
                schema[key] = value
        if self.enum:
            schema["enum"] = list(self.enum)
        return schema


def openapi_parameter(definition: QueryParameter) -> dict[str, Any]:
    """The OpenAPI 3.1 parameter object of `definition`."""
    schema = definition.value_schema()
    if definition.repeatable:
        schema = {"type": "array", "items": schema}
    if definition.default is not None:
        schema["default"] = definition.default
    parameter: dict[str, Any] = {
        "name": definition.name,
        "in": "query",
        "required": False,
        "description": definition.description,
        "schema": schema,
    }
    if definition.repeatable:
        parameter["style"] = "form"
        parameter["explode"] = True
    if definition.example is not None:
        parameter["example"] = [definition.example] if definition.repeatable else definition.example
    return parameter


def declare(definitions: Iterable[QueryParameter]) -> dict[str, Any]:
    """`openapi_extra` for a route that reads `definitions` from its query string."""
    parameters = [openapi_parameter(d) for d in definitions]
    names = [p["name"] for p in parameters]
    if len(names) != len(set(names)):
        raise ValueError(f"a query parameter is defined twice: {sorted(names)}")
    return {"parameters": parameters}


# Parameters FHIR lets a client add to any interaction: the format asked for and pretty printing.
GENERAL_FHIR = frozenset({"_format", "_pretty"})


def check_parameters(request: Request) -> None:
    """Refuse (400, naming the parameter) what no route can take: a NUL character in a query or
    path parameter (PostgreSQL text cannot hold one), a parameter given more than
    `MAX_OCCURRENCES` times or a query of more than `MAX_VALUES` values (comma-separated values
    count one each), and on a route that takes FastAPI query arguments any query parameter it
    does not declare.

    Routes that read the query string themselves (no query arguments) refuse unknown parameters
    as they read them; this gives the others the same behaviour. Called by every route's handler
    before FastAPI reads the request (`signpost_platform.routing.CheckedRoute`).
    """
    for name, value in (*request.query_params.multi_items(), *request.path_params.items()):
        if "\x00" in name or "\x00" in str(value):
            raise BadRequest(f"{name!r} contains a NUL character", expression=name)
    check_parameter_counts(request.query_params.multi_items())
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    allowed = _declared_query_names(route.dependant)
    if not allowed:
        return
    for name in request.query_params:
        # FHIR's general parameters apply to every interaction (the middleware serves _format).
        if name not in allowed and not (
            is_fhir_path(route_path(request.scope)) and name in GENERAL_FHIR
        ):
            raise BadRequest(
                f"unknown query parameter {name!r}; supported: {', '.join(sorted(allowed))}",
                expression=name,
                issue_code="not-supported",
            )


def check_parameter_counts(query: Iterable[tuple[str, str]]) -> None:
    """Refuse (400, naming the parameter) a query string with too many values to search by."""
    occurrences: dict[str, int] = {}
    values = 0
    for name, value in query:
        occurrences[name] = occurrences.get(name, 0) + 1
        if occurrences[name] > MAX_OCCURRENCES:
            raise BadRequest(
                f"{name} is given more than {MAX_OCCURRENCES} times",
                expression=name,
                issue_code="too-costly",
            )
        values += value.count(",") + 1
        if values > MAX_VALUES:
            raise BadRequest(
                f"the query has more than {MAX_VALUES} values (counting each comma-separated "
                f"value); {name} is past the limit",
                expression=name,
                issue_code="too-costly",
            )


def _declared_query_names(dependant: Dependant) -> set[str]:
    """The query arguments of a route's endpoint and of every dependency it has."""
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _declared_query_names(sub)
    return names
