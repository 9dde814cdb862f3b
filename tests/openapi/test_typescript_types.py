"""openapi-typescript's types of each service's document accept what the service really answers.

Responses recorded from referral-api in-process (a created, read and searched referral, an
OperationOutcome, a `$process-message` response) are written as TypeScript constants typed with
the generated type of their operation, status and media type, and `tsc --noEmit --strict` checks
them: an answer the document leaves untyped, types wrongly, or an element it does not declare
fails the check."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.openapi.tools import OPENAPI_TYPESCRIPT, SERVICES, TSC, requires_openapi_tools, run
from tests.support import builders, messages
from tests.support.clients import bearer

# The types are checked against what the service answers, which does not depend on the database.
pytestmark = [requires_openapi_tools, pytest.mark.sqlite_only]
FHIR_JSON = "application/fhir+json"


async def _record(app: FastAPI) -> list[tuple[str, str, int, Any]]:
    """(path, method, status, body) of real answers, each as its operation documents it."""
    transport = httpx.ASGITransport(app=app)
    headers = bearer("referral:read", "referral:write", "referral:all-organisations")
    async with httpx.AsyncClient(
        transport=transport, base_url="http://referral.test", headers=headers
    ) as client:
        recorded = []

        async def answer(
            method: str, path: str, template: str, status: int, **sent: Any
        ) -> dict[str, Any]:
            response = await client.request(method, path, **sent)
            assert response.status_code == status, response.text
            assert response.headers["content-type"].startswith(FHIR_JSON)
            recorded.append((template, method.lower(), status, response.json()))
            return response.json()  # type: ignore[no-any-return]

        referral = builders.service_request(identifier="TS-0001")
        created = await answer(
            "POST", "/fhir/ServiceRequest", "/fhir/ServiceRequest", 201, json=referral
        )
        await answer(
            "GET",
            f"/fhir/ServiceRequest/{created['id']}",
            "/fhir/ServiceRequest/{referral_id}",
            200,
        )
        await answer(
            "GET",
            "/fhir/ServiceRequest?status=active&colour=blue",
            "/fhir/ServiceRequest",
            200,
        )
        await answer(
            "GET",
            "/fhir/ServiceRequest/no-such-referral",
            "/fhir/ServiceRequest/{referral_id}",
            404,
        )
        update = messages.message(
            builders.service_request(identifier="TS-0001", status="completed"),
            reason_code="update",
            timestamp="2026-10-02T09:00:00+00:00",
        )
        await answer("POST", "/fhir/$process-message", "/fhir/$process-message", 200, json=update)
        return recorded


async def test_recorded_answers_type_check_against_the_generated_types(
    published_folder: Path, referral_app: FastAPI, tmp_path: Path
) -> None:
    for service in SERVICES:
        generated = run(
            OPENAPI_TYPESCRIPT,
            published_folder / f"{service}-api.json",
            "--output",
            tmp_path / f"{service}-api.ts",
        )
        assert generated.returncode == 0, generated.stdout + generated.stderr
    recorded = await _record(referral_app)
    # An answer the document leaves untyped is `unknown` (or `any`), which takes any value.
    lines = [
        'import type { paths } from "./referral-api";',
        "type Typed<T> = unknown extends T ? never : T;",
        "",
    ]
    for index, (path, method, status, body) in enumerate(recorded):
        answer_type = (
            f'Typed<paths["{path}"]["{method}"]["responses"][{status}]["content"]["{FHIR_JSON}"]>'
        )
        lines.append(f"export const answer{index}: {answer_type} = {json.dumps(body, indent=2)};")
    (tmp_path / "recorded.ts").write_text("\n".join(lines) + "\n", encoding="utf-8")
    checked = run(
        TSC,
        "--noEmit",
        "--strict",
        "--target",
        "es2022",
        "--module",
        "es2022",
        "--moduleResolution",
        "bundler",
        *[f"{service}-api.ts" for service in SERVICES],
        "recorded.ts",
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert len(recorded) == 5
