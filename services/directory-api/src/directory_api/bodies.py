"""Reading curation request bodies: JSON only, validated, errors naming the field (problem+json)."""

from typing import TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from signpost_platform.bodies import load_json_object
from signpost_platform.errors import Issue, SignpostError, element_path
from signpost_platform.fhir.parsing import require_json
from signpost_platform.fhir.responses import etag, parse_if_match

Model = TypeVar("Model", bound=BaseModel)
JSON = "application/json"


def validate(document: object, model: type[Model]) -> Model:
    """`document` as `model`, or a 422 listing every invalid field."""
    try:
        return model.model_validate(document)
    except ValidationError as error:
        issues = []
        for detail in error.errors(include_url=False):
            path = element_path(detail["loc"]) or "(body)"
            message = detail["msg"].removeprefix("Value error, ")
            issues.append(Issue("invalid", f"{path}: {message}", [path]))
        raise SignpostError(422, issues) from None


async def parse_body(request: Request, model: type[Model]) -> Model:
    require_json(request)
    return validate(load_json_object(await request.body()), model)


def expected_version(if_match: str | None) -> int | None:
    return parse_if_match(if_match) if if_match else None


def json_response(
    body: bytes | str,
    status: int = 200,
    version: int | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    all_headers = dict(headers or {})
    if version is not None:
        all_headers["ETag"] = etag(version)
    content = body.encode() if isinstance(body, str) else body
    return Response(content, status, all_headers, media_type=JSON)
