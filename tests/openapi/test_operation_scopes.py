"""Function-level authorisation, every operation: each one that names a scope in its document
refuses a request without a token (401) and one whose token has every other scope (403)."""

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from directory_api.config import DirectorySettings
from directory_api.main import create_app as create_directory_app
from referral_api.config import ReferralSettings
from referral_api.main import create_app as create_referral_app
from screening_api.config import ScreeningSettings
from screening_api.main import create_app as create_screening_app
from signpost_platform.auth import ALL_DEVELOPMENT_SCOPES
from tests.openapi.spec_rules import operations
from tests.support.clients import bearer, running
from tests.support.databases import drop_database, migrated_database

EVERY_SCOPE = {*ALL_DEVELOPMENT_SCOPES, "reports:unsuppressed"}


def _app(service: str, url: str) -> Any:
    common: dict[str, Any] = {"database_url": url, "environment": "test"}
    if service == "referral":
        return create_referral_app(ReferralSettings(**common))
    if service == "directory":
        return create_directory_app(DirectorySettings(**common, seed_on_startup=False))
    return create_screening_app(
        ScreeningSettings(
            **common, handoff_worker_enabled=False, referral_api_url="http://referral.test"
        )
    )


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
        app = _app(service, url)
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
