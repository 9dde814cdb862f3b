"""The route class of every Signpost router: the checks every request gets before a route reads it.

`CheckedRoute` refuses what no route can take (`check_parameters`: a NUL character, too many
values, a query parameter the route does not declare; `check_body`: a JSON body with a repeated
key or a NUL character, ...) before FastAPI reads the request. It does so in the route's handler
rather than as an app-wide dependency because FastAPI solves every dependency of every request
anew: as a dependency the same checks cost a read about 5% more instructions
(`python -m bench.hot_path --instructions`). `create_app` makes it the app's own route class and
refuses an app with any other kind of route (`unchecked_routes`) once its routes are in.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request, Response
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


def unchecked_routes(app: FastAPI) -> list[str]:
    """The paths of `app`'s routes that skip the checks, in included routers at any depth."""
    return [
        f"{context.path}"
        for context in iter_route_contexts(app.router.routes)
        if isinstance(context.original_route, APIRoute | APIWebSocketRoute)
        and not isinstance(context.original_route, CheckedRoute)
    ]


__all__ = ["CheckedRoute", "unchecked_routes"]
