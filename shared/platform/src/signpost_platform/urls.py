"""Absolute URLs for Location headers and Bundle links."""

from functools import lru_cache

from fastapi import Request
from starlette.datastructures import URL


def base_url(request: Request) -> str:
    """The public base URL: the configured one, else the one the request came in on."""
    configured = request.app.state.settings.public_base_url
    if configured:
        return str(configured).rstrip("/")
    scope = request.scope
    host = next((value for key, value in scope["headers"] if key == b"host"), None)
    root_path = scope.get("app_root_path", scope.get("root_path", ""))
    server = scope.get("server")  # a list or a tuple (ASGI)
    parts = (scope.get("scheme", "http"), host, None if server is None else tuple(server))
    if host is not None and len(host) > _LONGEST_HOST:  # not a host name: not kept
        return _request_base.__wrapped__(*parts, root_path)
    return _request_base(*parts, root_path)


# A host name is at most 253 characters (RFC 1035), with a port after it.
_LONGEST_HOST = 260


@lru_cache(maxsize=256)
def _request_base(
    scheme: str, host: bytes | None, server: tuple[str, int] | None, root_path: str
) -> str:
    """Starlette's `request.base_url` of a request with these parts (the only ones it reads),
    kept: a service answers on a handful of host names, and building the URL costs a read or
    a search a few per cent of its CPU."""
    path = root_path if root_path.endswith("/") else f"{root_path}/"
    scope = {
        "type": "http",
        "scheme": scheme,
        "server": server,
        "path": path,
        "root_path": root_path,
        "query_string": b"",
        "headers": [] if host is None else [(b"host", host)],
    }
    return str(URL(scope=scope)).rstrip("/")
