"""Function-level authorisation, every operation: each one that names a scope in its document
refuses a request without a token (401) and one whose token has every other scope (403)."""

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from signpost_platform.auth import ALL_DEVELOPMENT_SCOPES
from tests.openapi.apps import FACTORIES
from tests.openapi.spec_rules import operations
from tests.support.clients import bearer, running
from tests.support.databases import drop_database, migrated_database

EVERY_SCOPE = {*ALL_DEVELOPMENT_SCOPES, "reports:unsuppressed"}


async def _send(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
) -> httpx.Response:
    url = re.sub(r"\{[^}]+\}", "x", path)
    body = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    return await client.request(method, url, headers=headers, **body)


@pytest.mark.parametrize("service", ["referral", "directory", "screening"])
async def test_every_scoped_operation_refuses_a_missing_token_and_a_missing_scope(
    backend: str, session_tmp: Path, service: str, service_documents: dict[str, Any]
) -> None:
    scoped = [
        (method, path, operation["x-signpost-scope"])
        for method, path, operation in operations(service_documents[service])
        if operation.get("x-signpost-scope")
    ]
    assert scoped, f"{service} documents no scoped operation"
    url = await migrated_database(backend, session_tmp, service)
    wrong: dict[str, list[str]] = {}
    try:
        app = FACTORIES[service](url)
        async with running(app, f"http://{service}.test") as client:
            for method, path, scope in scoped:
                anonymous = await _send(client, method, path, {})
                others = bearer(*sorted(EVERY_SCOPE - {scope}), ods="F84001")
                unscoped = await _send(client, method, path, others)
                if (anonymous.status_code, unscoped.status_code) != (401, 403):
                    wrong[f"{method} {path} ({scope})"] = [
                        str(anonymous.status_code),
                        str(unscoped.status_code),
                    ]
    finally:
        await drop_database(url)
    assert wrong == {}
