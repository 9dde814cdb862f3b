"""Fault scenarios `jwks-slow` and `jwks-down`: the identity provider's JWKS endpoint answers in
40 s, or refuses connections, while referral-api (JWT mode, 2 workers) takes traffic.

A JWKS endpoint on loopback serves one RSA key. Three phases, each driving for a fixed time a
mix of requests at once: searches with good tokens, searches with tokens naming an unknown `kid`
(each makes the service want to fetch the JWKS again), and `/_ping`.

- `baseline`: the JWKS answers; the same mix, for comparison on the same machine and load.
- `warm`: the service started with the JWKS answering and holds its keys; then the JWKS turns
  slow or down. `REFERRAL_JWKS_REFRESH_SECONDS` is 10, so background refreshes also meet the
  fault during the phase. Good tokens must go on being served.
- `cold`: the service is started while the JWKS is already slow or down (a pod rescheduled
  during an identity-provider outage). It has no keys: every token is 401, but nothing may be
  5xx and `/_ping` must stay fast.

Figures per phase: requests served, statuses per kind, p50/p99 latency of good requests and of
`/_ping`, how long unknown-kid requests took to get their 401, 5xx seen (goal 0), and how many
fetches reached the JWKS endpoint.
"""

import asyncio
import json
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from tests.security.jwks_server import AUDIENCE, ISSUER, SigningKey

from bench.common import drop, free_port, migrated_postgres, serve

SLOW_SECONDS = 40
SEARCH = "/fhir/ServiceRequest?_count=1"
MIX = {"good": 6, "unknown-kid": 2, "ping": 2}  # concurrent clients of each kind


class JwksEndpoint:
    """A JWKS endpoint on its own thread: `ok`, `slow` (answers after 40 s) or `down`
    (nothing listens: connection refused)."""

    def __init__(self, key: SigningKey) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/.well-known/jwks.json"
        self.mode = "ok"
        self.fetches = 0
        self.body = json.dumps({"keys": [key.jwk()]}).encode()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                endpoint.fetches += 1
                if endpoint.mode == "slow":
                    time.sleep(SLOW_SECONDS)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(endpoint.body)))
                    self.end_headers()
                    self.wfile.write(endpoint.body)
                except OSError:
                    pass  # the client gave up waiting

            def log_message(self, *_: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server

    def set(self, mode: str) -> None:
        """`ok` or `slow`; `down` stops listening, so connections are refused."""
        self.mode = mode
        if mode == "down":
            self.stop()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@contextmanager
def jwt_referral_api(database: str, jwks_url: str) -> Iterator[str]:
    env = {
        "REFERRAL_DATABASE_URL": database,
        "REFERRAL_LOG_LEVEL": "ERROR",
        "REFERRAL_AUTH_MODE": "jwt",
        "REFERRAL_JWKS_URL": jwks_url,
        "REFERRAL_JWT_ISSUER": ISSUER,
        "REFERRAL_JWT_AUDIENCE": AUDIENCE,
        "REFERRAL_JWKS_REFRESH_SECONDS": "10",
    }
    with serve("referral_api.main:create_app", env=env) as url:
        yield url


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 1)


async def _drive(url: str, seconds: float, good: str, unknown: str) -> dict[str, Any]:
    """Every kind of client in a loop for `seconds`; each answer with its latency."""
    answers: list[tuple[str, int | str, float]] = []  # (kind, status or error, seconds)
    deadline = time.monotonic() + seconds
    requests = {
        "good": (SEARCH, {"Authorization": f"Bearer {good}"}),
        "unknown-kid": (SEARCH, {"Authorization": f"Bearer {unknown}"}),
        "ping": ("/_ping", {}),
    }
    limits = httpx.Limits(max_connections=sum(MIX.values()) * 2)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def loop(kind: str) -> None:
            path, headers = requests[kind]
            while time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    status: int | str = (await client.get(path, headers=headers)).status_code
                except httpx.HTTPError as error:
                    status = type(error).__name__
                answers.append((kind, status, time.monotonic() - started))

        await asyncio.gather(*(loop(kind) for kind, count in MIX.items() for _ in range(count)))
    return _figures(answers)


def _figures(answers: list[tuple[str, int | str, float]]) -> dict[str, Any]:
    figures: dict[str, Any] = {"requests_served": len(answers)}
    for kind in MIX:
        mine = [(status, seconds) for k, status, seconds in answers if k == kind]
        statuses: dict[str, int] = {}
        for status, _ in mine:
            statuses[str(status)] = statuses.get(str(status), 0) + 1
        latencies = [seconds for _, seconds in mine]
        figures[kind] = {
            "requests": len(mine),
            "statuses": statuses,
            "p50_ms": _percentile(latencies, 0.5),
            "p99_ms": _percentile(latencies, 0.99),
            "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        }
    refused = [s for k, status, s in answers if k == "unknown-kid" and status == 401]
    figures["unknown_kid_401_ms"] = {
        "p50": _percentile(refused, 0.5),
        "p99": _percentile(refused, 0.99),
        "max": round(max(refused) * 1000, 1) if refused else None,
        "mean": round(statistics.mean(refused) * 1000, 1) if refused else None,
    }
    figures["5xx"] = sum(1 for _, status, _ in answers if isinstance(status, int) and status >= 500)
    figures["transport_errors"] = sum(1 for _, status, _ in answers if isinstance(status, str))
    return figures


def jwks_fault(
    mode: str, baseline_seconds: float = 10, warm_seconds: float = 30, cold_seconds: float = 20
) -> dict[str, Any]:
    key, stranger = SigningKey("bench-key-1"), SigningKey("bench-key-unknown")
    good = key.token(exp=int(time.time()) + 3600)
    unknown = stranger.token(exp=int(time.time()) + 3600)
    database = migrated_postgres("referral")
    result: dict[str, Any] = {"jwks": mode, "jwks_slow_seconds": SLOW_SECONDS}
    try:
        endpoint = JwksEndpoint(key)
        endpoint.start()
        started = time.monotonic()
        with jwt_referral_api(database, endpoint.url) as url:
            startup = time.monotonic() - started
            warm_up = httpx.get(
                f"{url}{SEARCH}", headers={"Authorization": f"Bearer {good}"}, timeout=10
            )
            assert warm_up.status_code == 200, warm_up.text
            baseline = asyncio.run(_drive(url, baseline_seconds, good, unknown))
            result["baseline"] = {
                "seconds": baseline_seconds,
                "startup_s": round(startup, 1),
                **baseline,
            }
            fetches_before = endpoint.fetches
            endpoint.set(mode)
            warm = asyncio.run(_drive(url, warm_seconds, good, unknown))
            warm["jwks_fetches"] = endpoint.fetches - fetches_before
        result["warm"] = {"seconds": warm_seconds, **warm}
        endpoint.stop()

        endpoint = JwksEndpoint(key)
        if mode == "slow":
            endpoint.start()
            endpoint.set("slow")
        started = time.monotonic()
        with jwt_referral_api(database, endpoint.url) as url:
            startup = time.monotonic() - started
            cold = asyncio.run(_drive(url, cold_seconds, good, unknown))
            cold["jwks_fetches"] = endpoint.fetches
        endpoint.stop()
        result["cold"] = {"seconds": cold_seconds, "startup_s": round(startup, 1), **cold}
    finally:
        drop(database)
    print(f"referral-api (JWT, 2 workers) with the JWKS endpoint {mode}:")
    print(json.dumps(result, indent=2))
    return result


def jwks_slow() -> dict[str, Any]:
    return jwks_fault("slow")


def jwks_down() -> dict[str, Any]:
    return jwks_fault("down")
