"""`Access-Control-Allow-Origin: *` on every response, errors included (ORUK compliance)."""

from starlette.types import Message, Receive, Scope, Send

from signpost_platform.middleware import HttpMiddleware, on_response_start

_PREFLIGHT_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, POST, PUT, OPTIONS"),
    (b"access-control-allow-headers", b"Authorization, Content-Type, If-Match, Prefer"),
    (b"access-control-max-age", b"86400"),
]


class AllowAnyOriginMiddleware(HttpMiddleware):
    """Adds the header to every HTTP response and answers CORS preflight requests."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            await send(
                {"type": "http.response.start", "status": 204, "headers": _PREFLIGHT_HEADERS}
            )
            await send({"type": "http.response.body", "body": b""})
            return

        def allow_any_origin(message: Message) -> None:
            message["headers"] = [
                *[
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() != b"access-control-allow-origin"
                ],
                (b"access-control-allow-origin", b"*"),
            ]

        await self.app(scope, receive, on_response_start(send, allow_any_origin))
