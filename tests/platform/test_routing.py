"""Every route checks its request before anything else reads it (`signpost_platform.routing`)."""

from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any

import httpx
import pytest
from fastapi import (
    APIRouter,
    BackgroundTasks,
    Cookie,
    Depends,
    FastAPI,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
)
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts

import directory_api.main
import referral_api.main
import screening_api.main
from directory_api.config import DirectorySettings
from referral_api.config import ReferralSettings
from screening_api.config import ScreeningSettings
from signpost_platform.auth import Caller, require_scope
from signpost_platform.errors import NotFound
from signpost_platform.routing import CheckedRoute, _called_directly, add_routes, unchecked_routes
from tests.support.clients import bearer, platform_app, running


def test_a_route_that_would_skip_the_checks_is_refused():
    unchecked = APIRouter()

    @unchecked.get("/things")
    async def things() -> dict[str, str]:
        return {}

    nested = APIRouter(route_class=CheckedRoute)
    nested.include_router(unchecked, prefix="/inner")

    with pytest.raises(TypeError, match="/things"):
        platform_app(unchecked)
    with pytest.raises(TypeError, match="/inner/things"):
        platform_app(nested)


def test_a_route_added_to_the_app_itself_is_checked():
    def configure(app):
        @app.get("/direct")
        async def direct(colour: str | None = None) -> dict[str, str | None]:
            return {"colour": colour}

    app = platform_app(configure=configure)

    assert unchecked_routes(app) == []


def test_every_route_of_every_service_is_checked():
    memory = "sqlite+aiosqlite://"
    for app in (
        referral_api.main.create_app(ReferralSettings(database_url=memory)),
        directory_api.main.create_app(DirectorySettings(database_url=memory)),
        screening_api.main.create_app(ScreeningSettings(database_url=memory)),
    ):
        routes = [context.original_route for context in iter_route_contexts(app.router.routes)]
        assert sum(isinstance(route, CheckedRoute) for route in routes) > 10
        assert unchecked_routes(app) == []


async def test_the_checks_refuse_before_the_route_or_its_dependencies_run():
    ran: list[str] = []

    async def dependency() -> None:
        ran.append("dependency")

    router = APIRouter(route_class=CheckedRoute)

    @router.get("/things", dependencies=[Depends(dependency)])
    async def things(colour: str | None = None) -> dict[str, str | None]:
        ran.append("route")
        return {"colour": colour}

    @router.post("/things")
    async def add_thing() -> dict[str, str]:
        ran.append("route")
        return {}

    async with running(platform_app(router), "http://things.test") as client:
        nul = await client.get("/things", params={"colour": "red\x00"})
        undeclared = await client.get("/things", params={"shape": "round"})
        repeated_key = await client.post(
            "/things",
            content=b'{"colour": "red", "colour": "blue"}',
            headers={"content-type": "application/json"},
        )
        assert ran == []
        fine = await client.get("/things", params={"colour": "red"})

    assert nul.status_code == 400, nul.text
    assert "NUL" in nul.text
    assert undeclared.status_code == 400, undeclared.text
    assert "shape" in undeclared.text
    assert repeated_key.status_code == 400, repeated_key.text
    assert "colour" in repeated_key.text
    assert fine.status_code == 200
    assert fine.json() == {"colour": "red"}
    assert ran == ["dependency", "route"]


async def test_routes_are_matched_in_the_order_their_routers_were_given():
    first = APIRouter(route_class=CheckedRoute)
    second = APIRouter(route_class=CheckedRoute)

    @first.get("/things/{thing}")
    async def read_thing(thing: str) -> dict[str, str]:
        return {"route": "first", "thing": thing}

    @second.get("/things/special")
    async def special_thing() -> dict[str, str]:
        return {"route": "second"}

    @second.delete("/things/{thing}")
    async def remove_thing(thing: str) -> dict[str, str]:
        return {"route": "second", "thing": thing}

    async with running(platform_app(first, second), "http://things.test") as client:
        shadowed = await client.get("/things/special")
        removed = await client.delete("/things/1")
        wrong_method = await client.put("/things/1")
        nowhere = await client.get("/elsewhere")

    # As app.include_router(first), app.include_router(second) would route them.
    assert shadowed.json() == {"route": "first", "thing": "special"}
    assert removed.json() == {"route": "second", "thing": "1"}
    assert wrong_method.status_code == 405, wrong_method.text
    # Every method the path has, in either router.
    assert set(wrong_method.headers["allow"].split(", ")) == {"GET", "HEAD", "DELETE"}
    assert nowhere.status_code == 404, nowhere.text


def test_an_override_the_routes_would_not_see_is_refused():
    app = platform_app()

    async def other() -> None:
        return None

    with pytest.raises(TypeError, match="dependency_overrides"):
        app.dependency_overrides[other] = other
    with pytest.raises(TypeError, match="dependency_overrides"):
        app.dependency_overrides.update({other: other})
    with pytest.raises(TypeError, match="dependency_overrides"):
        app.dependency_overrides |= {other: other}
    assert app.dependency_overrides == {}


def test_what_add_routes_would_leave_out_is_refused():
    async def app_wide() -> None:
        return None

    async def starting() -> None:
        return None

    with pytest.raises(TypeError, match="app-wide dependency"):
        add_routes(FastAPI(dependencies=[Depends(app_wide)]), [APIRouter()])
    with pytest.raises(TypeError, match="lifecycles"):
        add_routes(FastAPI(), [APIRouter(on_startup=[starting])])


async def test_the_route_authenticates_its_caller_before_its_other_dependencies_run():
    ran: list[str] = []

    async def opens_something() -> None:
        ran.append("dependency")

    router = APIRouter(route_class=CheckedRoute)

    @router.get("/things")
    async def things(
        _: Annotated[None, Depends(opens_something)],
        caller: Annotated[Caller, require_scope("things:read")],
        colour: str | None = None,
    ) -> dict[str, str | None]:
        ran.append("route")
        return {"subject": caller.subject, "colour": colour}

    async with running(platform_app(router), "http://things.test") as client:
        anonymous = await client.get("/things")
        unscoped = await client.get("/things", headers=bearer("other:read"))
        refused_first = await client.get("/things", params={"shape": "round"})
        assert ran == []
        fine = await client.get("/things", params={"colour": "red"}, headers=bearer("things:read"))

    assert anonymous.status_code == 401, anonymous.text
    assert unscoped.status_code == 403, unscoped.text
    assert "things:read" in unscoped.text
    assert refused_first.status_code == 400, refused_first.text  # the checks come first
    assert fine.status_code == 200, fine.text
    assert fine.json() == {"subject": "dev-user", "colour": "red"}
    assert ran == ["dependency", "route"]


async def test_a_caller_another_dependency_needs_is_authenticated_once_as_before():
    seen: list[str] = []

    async def names_the_caller(
        caller: Annotated[Caller, require_scope("things:read")],
    ) -> str:
        seen.append(caller.subject)
        return caller.subject

    router = APIRouter(route_class=CheckedRoute)

    @router.get("/things")
    async def things(
        caller: Annotated[Caller, require_scope("things:read")],
        named: Annotated[str, Depends(names_the_caller)],
    ) -> dict[str, str]:
        return {"caller": caller.subject, "named": named}

    async with running(platform_app(router), "http://things.test") as client:
        anonymous = await client.get("/things")
        fine = await client.get("/things", headers=bearer("things:read"))

    assert anonymous.status_code == 401, anonymous.text
    assert fine.json() == {"caller": "dev-user", "named": "dev-user"}
    assert seen == ["dev-user"]


async def test_a_route_in_an_included_router_gets_what_the_inclusion_adds():
    ran: list[str] = []

    async def added_by_inclusion() -> None:
        ran.append("inclusion")

    router = APIRouter(route_class=CheckedRoute)

    @router.get("/things")
    async def things(caller: Annotated[Caller, require_scope("things:read")]) -> dict[str, str]:
        ran.append("route")
        return {"caller": caller.subject}

    def configure(app: FastAPI) -> None:
        app.include_router(router, prefix="/included", dependencies=[Depends(added_by_inclusion)])

    async with running(platform_app(configure=configure), "http://things.test") as client:
        anonymous = await client.get("/included/things")
        ran.clear()
        fine = await client.get("/included/things", headers=bearer("things:read"))

    assert anonymous.status_code == 401, anonymous.text
    assert fine.json() == {"caller": "dev-user"}
    assert ran == ["inclusion", "route"]


def _answer_of(part: str, thing_id: str, request: Request, colour, shape, x_tint, tag) -> Response:
    if thing_id == "missing":
        raise NotFound("no such thing", expression="thing_id")
    answer = {"thing": thing_id, "part": part, "via": request.url.path}
    answer |= {"colour": colour, "shape": shape, "x_tint": x_tint, "tag": tag}
    return JSONResponse(answer)


# Read by FastAPI (a route of FastAPI's own class, whose handler solves every parameter) and
# by a checked route that calls its endpoint itself: the same values either way.
_BY_FASTAPI = APIRouter()
_CHECKED = APIRouter(route_class=CheckedRoute)
_PATH = "/things/{thing_id}/parts/{part:path}"


@_BY_FASTAPI.get(_PATH)
async def _part_by_fastapi(
    part: str,
    thing_id: str,
    request: Request,
    colour: str | None = None,
    shape: Annotated[str | None, Query(alias="_shape")] = None,
    x_tint: Annotated[str | None, Header()] = None,
    tag: Annotated[str | None, Header(alias="X-Tag")] = None,
) -> Response:
    return _answer_of(part, thing_id, request, colour, shape, x_tint, tag)


@_CHECKED.get(_PATH)
async def _part_checked(
    part: str,
    thing_id: str,
    request: Request,
    caller: Annotated[Caller, require_scope("things:read")],
    colour: str | None = None,
    shape: Annotated[str | None, Query(alias="_shape")] = None,
    x_tint: Annotated[str | None, Header()] = None,
    tag: Annotated[str | None, Header(alias="X-Tag")] = None,
) -> Response:
    assert caller.subject == "dev-user"
    return _answer_of(part, thing_id, request, colour, shape, x_tint, tag)


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/things/a/parts/wheel", []),
        ("/things/a%20b/parts/front/wheel", []),
        ("/things/a/parts/wheel?colour=red&_shape=round", []),
        ("/things/a/parts/wheel?colour=red&colour=blue&_shape=square&_shape=round", []),
        ("/things/a/parts/wheel?colour=&_shape=", []),
        ("/things/a/parts/wheel", [("X-Tint", "dark"), ("X-Tag", "one"), ("x-tag", "two")]),
        ("/things/a/parts/wheel", [("x_tint", "underscored"), ("X-Tint", "")]),
    ],
)
async def test_a_route_fastapi_would_only_call_is_called_with_what_fastapi_reads(path, headers):
    (checked,) = _CHECKED.routes
    assert _called_directly(replace(checked.dependant, dependencies=[])) is not None
    by_fastapi = FastAPI()
    by_fastapi.include_router(_BY_FASTAPI)
    async with (
        running(platform_app(_CHECKED), "http://things.test") as ours,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=by_fastapi), base_url="http://things.test"
        ) as theirs,
    ):
        called = await ours.get(path, headers=[*headers, *bearer("things:read").items()])
        expected = await theirs.get(path, headers=headers)
        anonymous = await ours.get(path, headers=headers)
        missing = await ours.get("/things/missing/parts/wheel", headers=bearer("things:read"))

    assert expected.status_code == 200, expected.text
    assert called.status_code == 200, called.text
    assert called.json() == expected.json()
    assert anonymous.status_code == 401, anonymous.text
    assert missing.status_code == 404 and "no such thing" in missing.text


def _endpoints_fastapi_has_more_to_do_for() -> list[Callable[..., Any]]:
    async def number(thing_id: int) -> Response:
        return Response()

    async def constrained(thing_id: Annotated[str, Path(max_length=3)]) -> Response:
        return Response()

    async def defaulted(thing_id: str, colour: str = "red") -> Response:
        return Response()

    async def listed(
        thing_id: str, colour: Annotated[list[str] | None, Query()] = None
    ) -> Response:
        return Response()

    async def limited(
        thing_id: str, colour: Annotated[str | None, Query(max_length=3)] = None
    ) -> Response:
        return Response()

    async def aliased(
        thing_id: str, colour: Annotated[str | None, Query(validation_alias="hue")] = None
    ) -> Response:
        return Response()

    async def cookied(thing_id: str, colour: Annotated[str | None, Cookie()] = None) -> Response:
        return Response()

    async def with_tasks(thing_id: str, tasks: BackgroundTasks) -> Response:
        return Response()

    async def answering_a_dict(thing_id: str) -> dict[str, str]:
        return {}

    async def with_a_dependency(thing_id: str, _: Annotated[str, Depends(lambda: "x")]) -> Response:
        return Response()

    def not_a_coroutine(thing_id: str) -> Response:
        return Response()

    return [
        number,
        constrained,
        defaulted,
        listed,
        limited,
        aliased,
        cookied,
        with_tasks,
        answering_a_dict,
        with_a_dependency,
        not_a_coroutine,
    ]


@pytest.mark.parametrize(
    "endpoint", _endpoints_fastapi_has_more_to_do_for(), ids=lambda endpoint: endpoint.__name__
)
def test_a_route_fastapi_has_more_to_do_for_is_left_to_fastapi(endpoint):
    route = APIRoute("/things/{thing_id}", endpoint)

    assert _called_directly(route.dependant) is None


async def test_a_route_left_to_fastapi_still_converts_and_checks_its_values():
    router = APIRouter(route_class=CheckedRoute)

    @router.get("/things/{number}")
    async def thing(
        number: int,
        caller: Annotated[Caller, require_scope("things:read")],
        colour: Annotated[str | None, Query(max_length=3)] = None,
    ) -> Response:
        return JSONResponse({"number": number, "type": type(number).__name__, "colour": colour})

    async with running(platform_app(router), "http://things.test") as client:
        fine = await client.get("/things/12?colour=red", headers=bearer("things:read"))
        wrong = await client.get("/things/twelve", headers=bearer("things:read"))
        long = await client.get("/things/12?colour=purple", headers=bearer("things:read"))

    assert fine.json() == {"number": 12, "type": "int", "colour": "red"}
    assert wrong.status_code in (400, 422), wrong.text
    assert long.status_code in (400, 422), long.text


# The same endpoint twice: once called by the route itself, once (with an integer parameter
# FastAPI must convert) by FastAPI's handler. Whatever either raises is answered the same.
_FAILING = APIRouter(route_class=CheckedRoute)


def _fail(thing_id: str) -> Response:
    if thing_id == "missing":
        raise NotFound("no such thing", expression="thing_id")
    if thing_id == "taken":
        raise HTTPException(409, "taken", headers={"X-Why": "taken"})
    if thing_id == "broken":
        raise RuntimeError("a bug")
    return JSONResponse({"thing": thing_id})


@_FAILING.get("/called/{thing_id}")
async def _fail_called(
    thing_id: str, caller: Annotated[Caller, require_scope("things:read")]
) -> Response:
    return _fail(thing_id)


@_FAILING.get("/solved/{thing_id}")
async def _fail_solved(
    thing_id: str, caller: Annotated[Caller, require_scope("things:read")], limit: int = 1
) -> Response:
    return _fail(thing_id)


@pytest.mark.parametrize("thing_id", ["fine", "missing", "taken", "broken"])
async def test_what_a_directly_called_endpoint_raises_is_answered_as_fastapi_answers_it(thing_id):
    called, solved = _FAILING.routes
    assert called.app is not solved.app
    assert _called_directly(replace(called.dependant, dependencies=[])) is not None
    assert _called_directly(replace(solved.dependant, dependencies=[])) is None
    app = platform_app(_FAILING)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
            base_url="http://things.test",
        ) as client,
    ):
        answers = [
            await client.get(f"/{kind}/{thing_id}", headers=bearer("things:read"))
            for kind in ("called", "solved")
        ]

    varying = {"date", "x-correlation-id", "x-request-id", "traceparent"}
    ours, theirs = (
        (
            answer.status_code,
            answer.content,
            {k: v for k, v in answer.headers.items() if k not in varying},
        )
        for answer in answers
    )
    assert ours == theirs
    assert (
        answers[0].status_code
        == {"fine": 200, "missing": 404, "taken": 409, "broken": 500}[thing_id]
    )
