"""Pure ASGI middleware: the request body cap, compression, HEAD, conditional reads (304) and
content negotiation (406) as HTTP and FHIR clients expect them (each request's envelope of trace,
correlation id, access log, metrics and security headers is `signpost_platform.envelope`)."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from signpost_platform.errors import (
    Issue,
    PayloadTooLarge,
    SignpostError,
    is_fhir_path,
    render_error,
    route_path,
)


class HttpMiddleware:
    """A pure ASGI middleware: `handle` serves the HTTP requests that `applies` to; any other
    request, and any other scope (lifespan, websocket), goes to the app untouched.

    An ASGI 3 application whose `__call__` returns the awaitable rather than being a coroutine
    function: the FastAPI app it sits in is what a server is given (a server told nothing else
    would take a bare middleware for ASGI 2, as uvicorn's automatic detection does)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def applies(self, scope: Scope) -> bool:
        return True

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # The layer's work, or the app's, handed back to be awaited rather than awaited here:
        # a coroutine of its own would be one more frame that every suspension of the request
        # (each round trip to the database) passes through, on the way out and back in.
        if scope["type"] == "http" and self.applies(scope):
            return self.handle(scope, receive, send)
        return self.app(scope, receive, send)

    def handle(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """The layer's work for an HTTP request it applies to: a coroutine, or, where the
        request goes on to the app as it is, the app's own (one frame fewer)."""
        raise NotImplementedError


def on_response_start(send: Send, start: Callable[[Message], None]) -> Send:
    """`send`, calling `start` with the response's start message (to read its status or change
    its headers) before it is sent."""

    async def send_started(message: Message) -> None:
        if message["type"] == "http.response.start":
            start(message)
        await send(message)

    return send_started


class _BodyTooLarge(Exception):
    pass


_HTTP1 = ("1.0", "1.1")


class BodySizeLimitMiddleware(HttpMiddleware):
    """Refuses bodies over `max_bytes` with 413, whether or not Content-Length is sent. An
    HTTP/1.x request with neither Content-Length nor Transfer-Encoding, or a Content-Length of 0,
    has no body (RFC 9112 6.3; the server reads none) and goes to the app untouched. In HTTP/2
    the body is whatever data arrives, whatever the headers say, so it is always counted."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    def _refusal(self, scope: Scope) -> ASGIApp:
        error = PayloadTooLarge(f"the request body is over the {self.max_bytes}-byte limit")
        return render_error(route_path(scope), error)

    def handle(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        length: bytes | None = None
        chunked = False
        for key, value in scope["headers"]:
            if key == b"content-length":
                length = value
            elif key == b"transfer-encoding":
                chunked = True
        if (
            not chunked
            and (length is None or length == b"0")
            and scope.get("http_version") in _HTTP1
        ):
            return self.app(scope, receive, send)
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return self._refusal(scope)(scope, receive, send)
        return self._counted(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        def started(message: Message) -> None:
            nonlocal response_started
            response_started = True

        try:
            await self.app(scope, limited_receive, on_response_start(send, started))
        except _BodyTooLarge:
            if not response_started:
                await self._refusal(scope)(scope, receive, send)


def header(scope: Scope, name: bytes) -> Any:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


class CompressionMiddleware(HttpMiddleware):
    """gzip for the clients that accept it (Starlette's `GZipMiddleware`, with these settings, as
    before); the others get the answer as it is, with `Vary: Accept-Encoding` (its encoding
    depends on that header). Starlette's own path for them read every answer's headers and body
    to add the Vary header to some: about 5% of the instructions of a read."""

    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int,
        compresslevel: int,
        exclude_content_types: tuple[str, ...],
    ) -> None:
        super().__init__(app)
        self.gzip = GZipMiddleware(
            app,
            minimum_size=minimum_size,
            compresslevel=compresslevel,
            exclude_content_types=exclude_content_types,
        )

    def handle(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        accepted = header(scope, b"accept-encoding")
        if accepted is not None and "gzip" in accepted:
            return self.gzip(scope, receive, send)
        return self.app(scope, receive, on_response_start(send, _vary_on_encoding))


def _vary_on_encoding(message: Message) -> None:
    headers = message.setdefault("headers", [])
    for index, (key, value) in enumerate(headers):
        if key.lower() == b"vary":
            named = {name.strip().lower() for name in value.split(b",")}
            if not named & {b"accept-encoding", b"*"}:
                headers[index] = (key, value + b", Accept-Encoding")
            return
    headers.append((b"vary", b"Accept-Encoding"))


class HeadMiddleware(HttpMiddleware):
    """`HEAD` wherever `GET` is served: the GET answer's status and headers, without its body."""

    def applies(self, scope: Scope) -> bool:
        return bool(scope["method"] == "HEAD")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        as_get = {**scope, "method": "GET"}
        try:
            await self.app(as_get, receive, without_body)
        finally:
            if "route" in as_get:  # the route matched, for the metrics around this layer
                scope["route"] = as_get["route"]


# Headers a 304 repeats from the 200 it stands for (RFC 9110 15.4.5); the body's own go.
_NOT_MODIFIED_DROPS = {b"content-length", b"content-type", b"content-encoding"}


class ConditionalGetMiddleware(HttpMiddleware):
    """Answers a GET or HEAD whose `If-None-Match` names the answer's ETag (weak comparison), or
    whose `If-Modified-Since` is not before its Last-Modified, with 304 Not Modified.
    `If-None-Match` wins when both are sent (RFC 9110 13.2.2)."""

    def applies(self, scope: Scope) -> bool:
        return scope["method"] in ("GET", "HEAD")

    def handle(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if_none_match = header(scope, b"if-none-match")
        if_modified_since = header(scope, b"if-modified-since")
        if if_none_match is None and if_modified_since is None:
            return self.app(scope, receive, send)
        return self._conditional(scope, receive, send, if_none_match, if_modified_since)

    async def _conditional(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        if_none_match: str | None,
        if_modified_since: str | None,
    ) -> None:
        not_modified = False

        async def conditional_send(message: Message) -> None:
            nonlocal not_modified
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = dict(message.get("headers", []))
                if _unchanged(headers, if_none_match, if_modified_since):
                    not_modified = True
                    message = {
                        "type": "http.response.start",
                        "status": 304,
                        "headers": [
                            (k, v)
                            for k, v in message.get("headers", [])
                            if k.lower() not in _NOT_MODIFIED_DROPS
                        ],
                    }
            elif message["type"] == "http.response.body" and not_modified:
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(scope, receive, conditional_send)


def _unchanged(
    headers: dict[bytes, bytes], if_none_match: str | None, if_modified_since: str | None
) -> bool:
    if if_none_match is not None:
        etag = headers.get(b"etag")
        if etag is None:
            return False
        current = _opaque(etag.decode("latin-1"))
        wanted = [part.strip() for part in if_none_match.split(",")]
        return "*" in wanted or current in {_opaque(tag) for tag in wanted}
    last_modified = headers.get(b"last-modified")
    if last_modified is None or if_modified_since is None:
        return False
    since, modified = _http_date(if_modified_since), _http_date(last_modified.decode("latin-1"))
    return since is not None and modified is not None and modified <= since


def _opaque(tag: str) -> str:
    return tag.strip().removeprefix("W/")


def _http_date(value: str) -> datetime | None:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else None


# What a FHIR path answers with; an Accept that allows none of these is refused with 406.
_SERVED = ("application/fhir+json", "application/json")


class AcceptMiddleware(HttpMiddleware):
    """Refuses (406, an OperationOutcome) a FHIR request whose `Accept` header allows no JSON,
    e.g. `application/fhir+xml`; `_format=json` in the query overrides Accept, as FHIR says."""

    def applies(self, scope: Scope) -> bool:
        return is_fhir_path(route_path(scope))

    def handle(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        accept = header(scope, b"accept")
        if accept is None or not accept.strip() or _accepts_json(accept) or _format_given(scope):
            return self.app(scope, receive, send)
        error = SignpostError(
            406,
            [
                Issue(
                    "not-supported",
                    f"only FHIR JSON is served ({', '.join(_SERVED)}); Accept was {accept!r}",
                    ["Accept"],
                )
            ],
        )
        return render_error(route_path(scope), error)(scope, receive, send)


def _accepts_json(accept: str) -> bool:
    # Clients send a few Accept headers, each thousands of times: the verdict on a usual one is
    # kept (a long one is read afresh, so that what is kept stays small).
    return _accepts_json_kept(accept) if len(accept) <= 256 else _reads_json(accept)


@lru_cache(maxsize=256)
def _accepts_json_kept(accept: str) -> bool:
    return _reads_json(accept)


def _reads_json(accept: str) -> bool:
    for part in accept.split(","):
        media, *parameters = [piece.strip() for piece in part.split(";")]
        media = media.lower()
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        if media in ("*/*", "application/*", *_SERVED) or media.endswith("+json"):
            return True
        # Bulk Data files ($export) are newline-delimited JSON.
        if media in ("application/fhir+ndjson", "application/ndjson"):
            return True
    return False


def _format_given(scope: Scope) -> bool:
    query = scope.get("query_string", b"").decode("latin-1")
    return any(part.split("=", 1)[0] == "_format" for part in query.split("&"))
