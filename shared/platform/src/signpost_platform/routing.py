"""The route class of every Signpost router: the checks every request gets before a route reads it.

`CheckedRoute` refuses what no route can take (`check_parameters`: a NUL character, too many
values, a query parameter the route does not declare; `check_body`: a JSON body with a repeated
key or a NUL character, ...) before FastAPI reads the request. It does so in the route's handler
rather than as an app-wide dependency because FastAPI solves every dependency of every request
anew: as a dependency the same checks cost a read about 6% more instructions
(`python -m bench.hot_path --instructions`). `create_app` refuses a router whose routes are not
checked, so that no route can go without.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

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


__all__ = ["CheckedRoute"]
