"""OpenAPI examples captured from real runs: each operation's request and answers as the app in
process gave them, written as `<service>_api/data/openapi-examples.json` and loaded by
`signpost_platform.openapi_docs.captured_examples`.

A service's capture script (`tests.support.screening_examples`, ...) sends a fixed synthetic
journey through a `Capture`; `python -m` on the script rewrites the file, and a test runs the
journey again and fails when what the app answers no longer has the shape of what is committed
(`comparable` sets aside ids, timestamps and other values that differ from run to run).
"""

import json
import re
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from tests.support.clients import running
from tests.support.databases import migrated_database

SERVICES = Path(__file__).resolve().parents[2] / "services"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def examples_file(service: str) -> Path:
    """Where a service's captured examples live (`referral`, `directory`, `screening`)."""
    return SERVICES / f"{service}-api/src/{service}_api/data/openapi-examples.json"


class Capture:
    """Records the requests sent through it, and their answers, by operationId."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.examples: dict[str, dict[str, Any]] = {}

    async def call(
        self, operation_id: str, method: str, url: str, *, json: Any = None, **options: Any
    ) -> httpx.Response:
        """Send a request, record it and its (successful) answer under `operation_id`."""
        response = await self.client.request(method, url, json=json, **options)
        assert response.is_success, f"{operation_id}: {response.status_code} {response.text}"
        example = self.examples.setdefault(operation_id, {"responses": {}})
        if json is not None:
            example["request"] = json
        media_type = response.headers.get("content-type", "")
        body = response.json() if "json" in media_type else response.text
        example["responses"][str(response.status_code)] = body
        return response


def render(examples: dict[str, dict[str, Any]]) -> str:
    return json.dumps(examples, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def comparable(value: Any) -> Any:
    """`value` with what differs between two runs of one journey set aside: ids, instants and
    dates (a CapabilityStatement is dated the day it is served)."""
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [comparable(item) for item in value]
    if isinstance(value, str):
        value = _INSTANT.sub("<instant>", _UUID.sub("<uuid>", value))
        return "<date>" if _DATE.fullmatch(value) else value
    return value


async def rebuild(
    service: str,
    make_app: Callable[[str], FastAPI],
    base_url: str,
    capture: Callable[[httpx.AsyncClient], Awaitable[dict[str, dict[str, Any]]]],
) -> None:
    """Run `capture` against a fresh SQLite `service` (`make_app` of its database URL) and write
    what it captured as the service's examples file, unless only ids, instants and dates
    changed (the file then stays as it is, so a rebuild changes nothing by itself)."""
    with tempfile.TemporaryDirectory() as folder:
        url = await migrated_database("sqlite", Path(folder), service)
        async with running(make_app(url), base_url) as client:
            examples = await capture(client)
    path = examples_file(service)
    if path.exists() and comparable(json.loads(path.read_text("utf-8"))) == comparable(examples):
        print(f"{path} is up to date")
        return
    path.write_text(render(examples), encoding="utf-8")
    print(f"wrote {path}")
