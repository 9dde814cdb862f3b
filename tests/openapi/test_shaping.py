"""Platform OpenAPI shaping: explicit operationIds and tags are enforced, examples and links land
by id."""

import re
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI

from signpost_platform.openapi_docs import (
    OperationExamples,
    install_openapi_shaping,
    register_examples,
)
from signpost_platform.openapi_links import OperationLink, register_links
from signpost_platform.routing import CheckedRoute


def _app(router: APIRouter) -> FastAPI:
    app = FastAPI(title="t", version="1")
    app.include_router(router)
    install_openapi_shaping(app)
    return app


def test_an_operation_without_an_explicit_id_refuses_to_build_the_document() -> None:
    router = APIRouter(route_class=CheckedRoute, tags=["things"])

    @router.get("/things")
    async def list_things() -> list[str]:
        return []

    with pytest.raises(RuntimeError, match=r"/things: no explicit operation_id"):
        _app(router).openapi()


def test_an_operation_without_a_tag_refuses_to_build_the_document() -> None:
    router = APIRouter(route_class=CheckedRoute)

    @router.get("/things", operation_id="listThings")
    async def list_things() -> list[str]:
        return []

    with pytest.raises(RuntimeError, match=r"/things: no tag"):
        _app(router).openapi()


def test_examples_for_an_unknown_operation_id_refuse_to_build_the_document() -> None:
    router = APIRouter(route_class=CheckedRoute, tags=["things"])

    @router.get("/things", operation_id="listThings")
    async def list_things() -> list[str]:
        return []

    app = _app(router)
    register_examples(app, {"listThing": OperationExamples(responses={200: []})})
    with pytest.raises(RuntimeError, match="listThing"):
        app.openapi()


def test_registered_examples_document_the_body_and_the_answer() -> None:
    router = APIRouter(route_class=CheckedRoute, tags=["things"])

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


def _linked_app(links: dict[str, list[OperationLink]]) -> FastAPI:
    router = APIRouter(route_class=CheckedRoute, tags=["things"])

    @router.post("/things", operation_id="createThing", status_code=201)
    async def create_thing() -> dict[str, Any]:
        return {}

    @router.get("/things/{thing_id}", operation_id="readThing")
    async def read_thing(thing_id: str) -> dict[str, Any]:
        return {}

    app = _app(router)
    register_links(app, links)
    return app


def test_registered_links_lead_from_every_answer_with_a_body() -> None:
    link = OperationLink("readThing", {"path.thing_id": "$response.body#/id"}, "Read it")
    app = _linked_app({"createThing": [link]})

    responses = app.openapi()["paths"]["/things"]["post"]["responses"]

    assert responses["201"]["links"] == {
        "readThing": {
            "operationId": "readThing",
            "description": "Read it",
            "parameters": {"path.thing_id": "$response.body#/id"},
        }
    }
    assert "links" not in responses["422"]


@pytest.mark.parametrize(
    "link, problem",
    [
        (OperationLink("readThings", {}, "Read"), "createThing -> readThings: no such operation"),
        (
            OperationLink("readThing", {"path.id": "$response.body#/id"}, "Read"),
            "createThing -> readThing: the target has no path parameter id",
        ),
        (
            OperationLink("readThing", {}, "Read", request_body="$response.body"),
            "createThing -> readThing: the target takes no body",
        ),
    ],
)
def test_a_link_that_does_not_resolve_refuses_to_build_the_document(
    link: OperationLink, problem: str
) -> None:
    app = _linked_app({"createThing": [link]})

    with pytest.raises(RuntimeError, match=re.escape(problem)):
        app.openapi()
