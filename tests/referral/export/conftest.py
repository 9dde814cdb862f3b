"""Export tests: the referral-api of tests/referral, its export worker run by the tests."""

from typing import Any

import httpx
import orjson

from referral_api.export.worker import ExportWorker
from tests.referral.conftest import WRITE
from tests.support.clients import bearer

EXPORTER = bearer("referral:export", "referral:export-identifiable", "referral:all-organisations")
PSEUDONYMISED_ONLY = bearer("referral:export", "referral:all-organisations")
ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


async def send(client: httpx.AsyncClient, message: dict[str, Any]) -> None:
    response = await client.post("/fhir/$process-message", json=message, headers=WRITE)
    assert response.status_code in (200, 201), response.text


async def kick_off(
    client: httpx.AsyncClient,
    path: str = "/fhir/$export",
    headers: dict[str, str] = EXPORTER,
    **params: str,
) -> str:
    response = await client.get(path, params=params, headers={**headers, **ASYNC})
    assert response.status_code == 202, response.text
    return response.headers["Content-Location"].removeprefix(str(client.base_url))


async def finished(
    client: httpx.AsyncClient,
    worker: ExportWorker,
    status_url: str,
    headers: dict[str, str] = EXPORTER,
) -> dict[str, Any]:
    """Run the worker, then read the manifest."""
    await worker.run_pending()
    response = await client.get(status_url, headers=headers)
    assert response.status_code == 200, response.text
    manifest: dict[str, Any] = response.json()
    return manifest


async def files(
    client: httpx.AsyncClient, manifest: dict[str, Any], headers: dict[str, str] = EXPORTER
) -> dict[str, list[dict[str, Any]]]:
    """Each output file's resources, by type (every line parsed)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for output in manifest["output"]:
        url = output["url"].removeprefix(str(client.base_url))
        response = await client.get(url, headers={**headers, "Accept": "application/fhir+ndjson"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/fhir+ndjson")
        lines = response.content.splitlines()
        assert len(lines) == output["count"]
        # Bulk Data allows several files of one type: they are read together.
        found.setdefault(output["type"], []).extend(orjson.loads(line) for line in lines)
    return found
