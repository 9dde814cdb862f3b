"""The route class of every Signpost router: the checks every request gets before a route reads it.

`CheckedRoute` refuses what no route can take (`check_parameters`: a NUL character, too many
values, a query parameter the route does not declare; `check_body`: a JSON body with a repeated
key or a NUL character, ...) before FastAPI reads the request. It does so in the route's handler
rather than as an app-wide dependency because FastAPI solves every dependency of every request
anew: as a dependency the same checks cost a read about 5% more instructions
(`python -m bench.hot_path --instructions`). `create_app` makes it the app's own route class and
refuses an app with any other kind of route (`unchecked_routes`) once its routes are in.

It also authenticates the caller of a route that declares one (`caller: Annotated[Caller,
require_scope(...)]`) itself, after the checks and before FastAPI reads the route's other
parameters, which is where FastAPI would have solved it: FastAPI's solving of that one
dependency cost a read of a referral 76,000 instructions, 7% of it. The declaration stays what
the OpenAPI document reads the route's scope from. Where FastAPI would then do no more than call
the endpoint with values as the request gives them (`_called_directly`: plain strings from the
path, optional plain strings from the query and headers, the request; the endpoint answers a
`Response`), the route calls it itself: FastAPI's handler cost a read 15% of its instructions and
a create 8% even then.

`add_routes` puts the routers' routes on the app itself rather than including the routers.
"""

import copy
import functools
import inspect
import typing
from collections.abc import Callable, Coroutine, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

import fastapi.routing
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from starlette.types import ASGIApp, Receive, Scope, Send

from signpost_platform.auth import RequiredScope, required_scope
from signpost_platform.bodies import check_body
from signpost_platform.parameters import check_parameters

# The caller `CheckedRoute` authenticated, for the endpoint it calls (`_with_caller`).
_CALLER: ContextVar[Any] = ContextVar("signpost_route_caller")
# Set by FastAPI (0.165) while it builds the handler of a route in an included router.
_INCLUDED: ContextVar[Any] | None = getattr(fastapi.routing, "_effective_route_context_var", None)


class CheckedRoute(APIRoute):
    """An APIRoute that checks the request (`check_parameters`, `check_body`) first, then
    authenticates its caller (`RequiredScope`) if it declares one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._called: Callable[[Request], Coroutine[Any, Any, Response]] | None = None
        super().__init__(*args, **kwargs)  # builds the handler (`get_route_handler`)
        if self._called is not None and self.max_body_size is None:
            self.app = _answering(self._called)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        found = _caller_parameter(self.dependant)
        if found is None:
            handler = super().get_route_handler()

            async def checked(request: Request) -> Response:
                check_parameters(request)
                await check_body(request)
                return await handler(request)

            return checked
        name, requirement = found
        # The route without its caller parameter, which the caller authenticated below is
        # given for. The route itself keeps its declaration, which the OpenAPI document and
        # the parameter checks read.
        bare = replace(
            self.dependant,
            dependencies=[sub for sub in self.dependant.dependencies if sub.name != name],
        )
        direct = _called_directly(bare)
        if direct is not None:

            async def checked_and_called(request: Request) -> Response:
                check_parameters(request)
                await check_body(request)
                caller = await requirement(request)
                values = direct.values(request)
                values[name] = caller
                response: Response = await direct.endpoint(**values)
                return response

            self._called = checked_and_called
            return checked_and_called
        # Otherwise FastAPI's handler, built from a copy of the route.
        route = copy.copy(self)
        route.dependant = replace(bare, call=_with_caller(bare.call, name))
        handler = APIRoute.get_route_handler(route)

        async def checked_as_caller(request: Request) -> Response:
            check_parameters(request)
            await check_body(request)
            token = _CALLER.set(await requirement(request))
            try:
                return await handler(request)
            finally:
                _CALLER.reset(token)

        return checked_as_caller


def _answering(handler: Callable[[Request], Coroutine[Any, Any, Response]]) -> ASGIApp:
    """The ASGI app of a route whose endpoint the route calls itself (`_DirectCall`): the
    handler's response, sent. FastAPI's (`request_response`) also opens two exit stacks, for
    dependencies with `yield`, which such a route has none of, and handles the exceptions the
    handler raises, which the app's `ExceptionMiddleware` then does, with the same handlers, as
    nothing stands between the two but the routing (tests/platform/test_routing.py). It cost a
    read about 4% of its CPU."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await handler(Request(scope, receive, send))
        await response(scope, receive, send)

    return app


@dataclass(frozen=True, slots=True)
class _DirectCall:
    """An endpoint FastAPI would only call, and where its arguments are in the request."""

    endpoint: Callable[..., Coroutine[Any, Any, Response]]
    # Each argument's name, with the name of the path, query or header parameter it is read from.
    path: tuple[tuple[str, str], ...]
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    request: str | None  # the name of its request parameter, if any

    def values(self, request: Request) -> dict[str, Any]:
        """The endpoint's arguments from `request`, as FastAPI reads them: a query parameter's
        last value, a header's first."""
        path = request.path_params
        values: dict[str, Any] = {name: path[key] for name, key in self.path}
        if self.request is not None:
            values[self.request] = request
        if self.query:
            query = request.query_params
            for name, key in self.query:
                values[name] = query.get(key)
        if self.headers:
            headers = request.headers
            for name, key in self.headers:
                values[name] = headers.get(key)
        return values


def _called_directly(dependant: Dependant) -> _DirectCall | None:
    """How to call the endpoint, when FastAPI would do no more than call it with values read
    as they stand: it takes nothing but path parameters that are plain strings, optional plain
    strings from the query or the headers (no constraint to check, no default but None), and
    the request, and says it returns a `Response` (which FastAPI hands on as it is). None if
    FastAPI has more to do.

    FastAPI's handler cost a read of a referral 15% of its instructions even then, and a
    create 8%: its request scope checks, its telemetry hooks, and the solving and validation
    of every parameter (tests/platform/test_routing.py holds the values to FastAPI's)."""
    endpoint = dependant.call
    if endpoint is None or not inspect.iscoroutinefunction(endpoint):
        return None
    if (
        dependant.dependencies
        or dependant.cookie_params
        or dependant.body_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
    ):
        return None
    if not all(_plain(field, str) for field in dependant.path_params):
        return None
    optional = (*dependant.query_params, *dependant.header_params)
    if not all(
        _plain(field, str | None) and field.field_info.default is None for field in optional
    ):
        return None
    returned = typing.get_type_hints(endpoint).get("return")
    if not (isinstance(returned, type) and issubclass(returned, Response)):
        return None
    return _DirectCall(
        endpoint,
        tuple((field.name, field.alias) for field in dependant.path_params),
        tuple((field.name, field.alias) for field in dependant.query_params),
        tuple((field.name, field.alias) for field in dependant.header_params),
        dependant.request_param_name,
    )


def _plain(field: Any, annotation: Any) -> bool:
    """Whether a parameter is of `annotation`, with nothing more to check or read: no
    constraint, no other name to be found by (its alias is the request's name for it)."""
    info = field.field_info
    return bool(
        info.annotation == annotation
        and not info.metadata
        and info.validation_alias in (None, field.alias)
    )


def _caller_parameter(dependant: Dependant) -> tuple[str, RequiredScope] | None:
    """The name and requirement of the endpoint's caller parameter, when the endpoint is a
    coroutine function with exactly one and no other dependency needs a caller; None if not
    (FastAPI then solves it as any dependency).

    None too for a route FastAPI builds as part of an included router (which `create_app` does
    not use: `add_routes`): FastAPI builds that handler from its own copy of the route, with the
    dependencies the inclusion adds, and those are for FastAPI to solve. Where this FastAPI does
    not say (its private context variable is gone), every route is left to FastAPI."""
    if _INCLUDED is None or _INCLUDED.get() is not None:
        return None
    if not inspect.iscoroutinefunction(dependant.call):
        return None
    found = [
        (sub.name, sub.call)
        for sub in dependant.dependencies
        if isinstance(sub.call, RequiredScope) and sub.name is not None
    ]
    others = [sub for sub in dependant.dependencies if not isinstance(sub.call, RequiredScope)]
    if len(found) != 1 or any(required_scope(sub) is not None for sub in others):
        return None
    return found[0]


def _with_caller(
    endpoint: Callable[..., Coroutine[Any, Any, Any]] | None, name: str
) -> Callable[..., Coroutine[Any, Any, Any]]:
    """`endpoint`, called with the caller `CheckedRoute` authenticated as its `name`."""
    assert endpoint is not None

    @functools.wraps(endpoint)
    async def with_caller(**values: Any) -> Any:
        return await endpoint(**values, **{name: _CALLER.get()})

    return with_caller


class _NoOverrides(dict[Any, Any]):
    """`app.dependency_overrides` of an app made by `add_routes`: the routes on it were made by
    their routers, whose overrides they consult, so an override set on the app would be
    silently ignored; setting one is refused instead."""

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TypeError(
            "Signpost's routes are added to the app from their routers (add_routes): an app's "
            "dependency_overrides would not reach them. Configure the app through its settings."
        )

    def update(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            self.__setitem__(None, None)

    def __ior__(self, other: Any) -> "_NoOverrides":  # type: ignore[misc]
        self.update(other)
        return self

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self.__setitem__(key, default)


def add_routes(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Each router's routes, in order, added to `app`'s own routes.

    `app.include_router(router)` would add the router as one entry that FastAPI (0.165) matches
    a request against by its own machinery: per router and per route it tries, it records and
    restores which router and route it is in. Added directly, each route is matched as any
    Starlette route, by its path's regular expression and its methods: a read of a referral
    runs about 7% fewer instructions, a search of one 9% (`python -m bench.hot_path
    --instructions`). Requests go to the same routes in the same order, and the OpenAPI
    document is the same (tests/platform/test_routing.py, tests/openapi).

    What including would add and these routers and this app do not use is refused, rather than
    silently left out: the app's own dependencies (FastAPI adds them to an included route), a
    router's start-up or shut-down handlers, and its low-priority routes. A router's `lifespan`
    is not run either (start-up and shut-down work goes in `create_app`'s lifecycles). The app's
    `dependency_overrides` cannot reach routes made by their routers, so setting one raises
    rather than being ignored. A route added to a router after this is not on the app."""
    if app.router.dependencies:
        raise TypeError("an app-wide dependency would not reach the routes add_routes adds")
    for router in routers:
        if router.on_startup or router.on_shutdown or getattr(router, "_low_priority_routes", None):
            raise TypeError(
                "start-up and shut-down work goes in create_app's lifecycles, and every route "
                "of a router on the app is an ordinary route"
            )
        app.router.routes.extend(router.routes)
    app.dependency_overrides = _NoOverrides()


def unchecked_routes(app: FastAPI) -> list[str]:
    """The paths of `app`'s routes that skip the checks, in included routers at any depth."""
    return [
        str(context.path)
        for context in iter_route_contexts(app.router.routes)
        if isinstance(context.original_route, APIRoute | APIWebSocketRoute)
        and not isinstance(context.original_route, CheckedRoute)
    ]


__all__ = ["CheckedRoute", "add_routes", "unchecked_routes"]
