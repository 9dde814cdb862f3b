"""Parsing a FHIR resource from a request body, with errors that name the offending element.

Status codes follow the FHIR RESTful API: 400 when the body cannot be parsed or breaks the
structure of the resource (malformed JSON, wrong resourceType, unknown element, wrong type,
missing required element); 422 when it is well-formed but breaks a profile or business rule
(a code outside its value set, an invalid NHS number, a duplicated reason, a modifierExtension).

`parse_resource` is strict: an element outside the profile is refused. `read_resource` reads as
`signpost_schemas.fhir.lenient` does: what the profile does not read is kept or removed and
comes back as gaps (warnings), and only what cannot be stored safely is refused.
"""

from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from signpost_platform.bodies import load_json_object
from signpost_platform.errors import (
    BadRequest,
    Issue,
    SignpostError,
    UnsupportedMediaType,
    element_path,
)
from signpost_schemas.fhir import lenient
from signpost_schemas.fhir.base import FhirResource

Model = TypeVar("Model", bound=BaseModel)
Resource = TypeVar("Resource", bound=FhirResource)

JSON_MEDIA_TYPES = ("application/fhir+json", "application/json")

# Pydantic error type → (FHIR issue type, is it a structural error?)
_STRUCTURAL = {
    "missing": "required",
    "extra_forbidden": "structure",
    "model_type": "structure",
    "list_type": "structure",
    "dict_type": "structure",
    "string_type": "structure",
    "int_type": "structure",
    "int_parsing": "structure",
    "bool_type": "structure",
    "bool_parsing": "structure",
    "float_type": "structure",
    "float_parsing": "structure",
    "date_parsing": "structure",
    "date_type": "structure",
    "datetime_parsing": "structure",
    "datetime_type": "structure",
    "date_from_datetime_parsing": "structure",
    "date_from_datetime_inexact": "structure",
    "timezone_aware": "structure",
    "union_tag_invalid": "structure",
    "too_short": "required",
}
_CONTENT = {
    "code_invalid": "code-invalid",
    "literal_error": "code-invalid",
    "duplicate": "duplicate",
    "business_rule": "business-rule",
    "required": "required",
    "value_error": "value",
    "string_pattern_mismatch": "value",
    "string_too_long": "too-long",
    "string_too_short": "value",
    "too_long": "too-long",
    "greater_than_equal": "value",
    "less_than_equal": "value",
    "not_supported": "not-supported",
}


def issues_from_validation(resource_type: str, error: ValidationError) -> tuple[int, list[Issue]]:
    """The HTTP status and FHIR issues for a Pydantic validation error."""
    issues: list[Issue] = []
    seen: set[tuple[str, str]] = set()
    structural = False
    for detail in error.errors(include_url=False):
        kind = detail["type"]
        context: dict[str, Any] = detail.get("ctx") or {}
        location = tuple(detail["loc"])
        if "element" in context:  # a model-level rule about one of the model's elements
            location = (*location, context["element"])
        expression = context.get("expression") or element_path(location, resource_type)
        if kind in _STRUCTURAL:
            structural = True
            code = _STRUCTURAL[kind]
        else:
            code = _CONTENT.get(kind, "invalid")
        message = detail["msg"]
        if kind == "extra_forbidden":
            message = "unknown element: not part of the Signpost profile of this resource"
        # Union branches repeat the same problem for each alternative type: say it once.
        key = (expression, message)
        if key in seen:
            continue
        seen.add(key)
        issues.append(Issue(code, f"{expression}: {message}", [expression]))
    return (400 if structural else 422), issues


def validation_error(
    resource_type: str, error: ValidationError, where: str | None = None
) -> SignpostError:
    """The 400 or 422 for a `resource_type` that failed validation. `where` is the element the
    resource stands at in a larger body (`Bundle.entry[2].resource`): issues are named from there
    (`Task.status` → `Bundle.entry[2].resource.status`)."""
    status, issues = issues_from_validation(resource_type, error)
    if where is not None and where != resource_type:
        issues = [_relocate(issue, resource_type, where) for issue in issues]
    return SignpostError(status, issues)


def _relocate(issue: Issue, resource_type: str, where: str) -> Issue:
    return Issue(
        issue.code,
        lenient.relocated(issue.diagnostics, resource_type, where),
        [lenient.relocated(e, resource_type, where) for e in issue.expression or []],
        issue.severity,
    )


def parse_document(
    document: dict[str, Any], model: type[Model], resource_type: str, where: str | None = None
) -> Model:
    """`document` validated as `resource_type` against `model`, or an error naming the element
    (from `where`, as `validation_error` says)."""
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise validation_error(resource_type, error, where) from None


def read_document(
    document: dict[str, Any], model: type[Resource], resource_type: str, where: str | None = None
) -> lenient.Reading[Resource]:
    """`document` read leniently as `resource_type`: the resource and its gaps, or an error
    naming the element that cannot be stored safely (from `where`, as `validation_error` says)."""
    try:
        return lenient.read(document, model)
    except ValidationError as error:
        raise validation_error(resource_type, error, where) from None


def parse_resource(body: bytes, model: type[Model], resource_type: str) -> Model:
    """Validate `body` as `resource_type` against `model`, or raise an error naming the element."""
    return parse_document(load_resource(body, resource_type), model, resource_type)


def read_resource(
    body: bytes, model: type[Resource], resource_type: str
) -> lenient.Reading[Resource]:
    """Read `body` leniently as `resource_type`: the resource and its gaps, or an error naming
    the element that cannot be stored safely."""
    return read_document(load_resource(body, resource_type), model, resource_type)


def load_resource(body: bytes, resource_type: str) -> dict[str, Any]:
    """The JSON object of `body`, if it is one and its resourceType is `resource_type`."""
    document = load_json_object(body)
    found = document.get("resourceType")
    if found != resource_type:
        raise BadRequest(
            f"resourceType must be {resource_type} (got {found!r})",
            expression=f"{resource_type}.resourceType",
            issue_code="structure",
        )
    return document


def require_json(request: Request) -> None:
    """Refuse a body whose Content-Type is not FHIR JSON or JSON (415)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in JSON_MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"Content-Type must be application/fhir+json or application/json (got "
            f"{content_type or 'none'})"
        )
