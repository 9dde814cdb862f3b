"""The route class of every Signpost router: the checks every request gets before a route reads it.

`CheckedRoute` refuses what no route can take (`check_parameters`: a NUL character, too many
values, a query parameter the route does not declare; `check_body`: a JSON body with a repeated
key or a NUL character, ...) before FastAPI reads the request. It does so in the route's handler
rather than as an app-wide dependency because FastAPI solves every dependency of every request
anew: as a dependency the same checks cost a read about 5% more instructions
(`python -m bench.hot_path --instructions`). `create_app` makes it the app's own route class and
refuses an app with any other kind of route (`unchecked_routes`) once its routes are in.

`add_routes` puts the routers' routes on the app itself rather than including the routers.
"""

from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts

from signpost_platform.bodies import check_body
from signpost_platform.parameters import check_parameters


class CheckedRoute(APIRoute):
    """An APIRoute that checks the request (`check_parameters`, `check_body`) first."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            check_parameters(request)
            await check_body(request)
            return await handler(request)

        return checked


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

    What including would add and these routers do not use is refused: a router's own start-up
    or shut-down handlers. The app's `dependency_overrides` cannot reach routes made by their
    routers, so setting one raises rather than being ignored."""
    for router in routers:
        if router.on_startup or router.on_shutdown:
            raise TypeError("start-up and shut-down work goes in create_app's lifecycles")
        app.router.routes.extend(router.routes)
    app.dependency_overrides = _NoOverrides()


def unchecked_routes(app: FastAPI) -> list[str]:
    """The paths of `app`'s routes that skip the checks, in included routers at any depth."""
    return [
        f"{context.path}"
        for context in iter_route_contexts(app.router.routes)
        if isinstance(context.original_route, APIRoute | APIWebSocketRoute)
        and not isinstance(context.original_route, CheckedRoute)
    ]


__all__ = ["CheckedRoute", "add_routes", "unchecked_routes"]
