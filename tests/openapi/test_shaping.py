"""Platform OpenAPI shaping: explicit operationIds and tags are enforced, examples land by id."""

from typing import Any

import pytest
from fastapi import APIRouter, FastAPI

from signpost_platform.openapi_docs import (
    OperationExamples,
    install_openapi_shaping,
    register_examples,
)


def _app(router: APIRouter) -> FastAPI:
    app = FastAPI(title="t", version="1")
    app.include_router(router)
    install_openapi_shaping(app)
    return app


def test_an_operation_without_an_explicit_id_refuses_to_build_the_document() -> None:
    router = APIRouter(tags=["things"])

    @router.get("/things")
    async def list_things() -> list[str]:
        return []

    with pytest.raises(RuntimeError, match=r"/things: no explicit operation_id"):
        _app(router).openapi()


def test_an_operation_without_a_tag_refuses_to_build_the_document() -> None:
    router = APIRouter()

    @router.get("/things", operation_id="listThings")
    async def list_things() -> list[str]:
        return []

    with pytest.raises(RuntimeError, match=r"/things: no tag"):
        _app(router).openapi()


def test_examples_for_an_unknown_operation_id_refuse_to_build_the_document() -> None:
    router = APIRouter(tags=["things"])

    @router.get("/things", operation_id="listThings")
    async def list_things() -> list[str]:
        return []

    app = _app(router)
    register_examples(app, {"listThing": OperationExamples(responses={200: []})})
    with pytest.raises(RuntimeError, match="listThing"):
        app.openapi()


def test_registered_examples_document_the_body_and_the_answer() -> None:
    router = APIRouter(tags=["things"])

    @router.post("/fhir/Thing", operation_id="createThing", status_code=201)
    async def create_thing() -> dict[str, Any]:
        return {}

    app = _app(router)
    body = {"resourceType": "Basic", "id": "1"}
    register_examples(
        app,
        {
            "createThing": OperationExamples(
                request=body, request_media_type="application/fhir+json", responses={201: body}
            )
        },
    )
    operation = app.openapi()["paths"]["/fhir/Thing"]["post"]
    assert operation["requestBody"]["content"]["application/fhir+json"]["example"] == body
    created = operation["responses"]["201"]["content"]
    assert created["application/fhir+json"]["example"] == body
    assert operation["responses"]["415"]["content"]["application/fhir+json"]["example"] == {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "code": "not-supported", "diagnostics": "the body must be JSON"}
        ],
    }
    assert "404" not in operation["responses"]  # no record named in the path
