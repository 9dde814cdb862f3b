"""Security headers for every response, and per-client rate limits with 429 + Retry-After.

Rate limits here are per process (a token bucket per client); in production the NHS API
platform's quotas sit in front, and these limits stop one client from exhausting a replica.
"""

import hashlib
import math
import time
from collections.abc import Awaitable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from signpost_platform.auth import bearer_token
from signpost_platform.errors import Issue, SignpostError, render_error, route_path
from signpost_platform.middleware import HttpMiddleware

_API_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
]
# The API itself serves no active content; the interactive docs pages need their scripts.
_CSP_API = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
_DOCS_PATHS = ("/docs", "/redoc")


def security_headers(path: str, present: set[bytes]) -> list[tuple[bytes, bytes]]:
    """The security headers an answer to `path` adds to those `present` (lower-case names)."""
    extra = [(k, v) for k, v in _API_HEADERS if k not in present]
    if not path.startswith(_DOCS_PATHS) and _CSP_API[0] not in present:
        extra.append(_CSP_API)
    return extra


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimitMiddleware(HttpMiddleware):
    """A token bucket per client: `per_minute` requests a minute, bursts up to `burst`.

    The client is the bearer token (hashed, as `authenticate` reads it: extra whitespace or a
    different case of `Bearer` is the same client) when there is one, else the peer address.
    Health and metrics endpoints are not limited.
    """

    exempt = ("/_ping", "/_status", "/metrics")

    def __init__(
        self, app: ASGIApp, per_minute: int, burst: int, max_clients: int = 50_000
    ) -> None:
        super().__init__(app)
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_clients = max_clients
        self.buckets: dict[str, _Bucket] = {}

    def applies(self, scope: Scope) -> bool:
        return self.rate > 0 and route_path(scope) not in self.exempt

    def handle(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        retry_after = self._take(self._client(scope))
        if retry_after is None:
            return self.app(scope, receive, send)
        error = SignpostError(
            429,
            [Issue("throttled", f"too many requests: retry after {retry_after} s")],
            {"Retry-After": str(retry_after)},
        )
        return render_error(route_path(scope), error)(scope, receive, send)

    def _client(self, scope: Scope) -> str:
        for key, value in scope["headers"]:
            if key == b"authorization":
                token = bearer_token(value.decode("latin-1"))
                if token is not None:
                    return "t:" + hashlib.sha256(token.encode("latin-1")).hexdigest()[:32]
        client = scope.get("client")
        return f"a:{client[0] if client else 'unknown'}"

    def _take(self, client: str) -> int | None:
        """Spend one token; None if allowed, else the whole seconds until one is available."""
        now = time.monotonic()
        bucket = self.buckets.get(client)
        if bucket is None:
            if len(self.buckets) >= self.max_clients:
                self.buckets.clear()
            bucket = self.buckets[client] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return max(1, math.ceil((1 - bucket.tokens) / self.rate))
