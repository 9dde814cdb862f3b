"""openapi-python-client generates each service's client from its document, whole and without a
warning, and the referral-api client works: it creates a referral, finds it and sends a
`$process-message`, against the real app in-process, and reads typed answers."""

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.openapi.spec_rules import operations
from tests.openapi.tools import OPENAPI_PYTHON_CLIENT, SERVICES, requires_openapi_tools, run
from tests.support import builders, messages
from tests.support.clients import bearer

pytestmark = requires_openapi_tools
# The generator configuration integrators are pointed at (docs/integrator-guide.md).
CLIENT_CONFIG = Path(__file__).parents[2] / "docs" / "openapi" / "openapi-python-client.yaml"


@pytest.fixture(scope="module")
def generated(
    published_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, tuple[Path, str]]]:
    """service → (package folder, what the generator printed), importable from sys.path."""
    folder = tmp_path_factory.mktemp("clients")
    found = {}
    for service in SERVICES:
        package = folder / f"signpost_{service}_client"
        result = run(
            OPENAPI_PYTHON_CLIENT,
            "generate",
            "--path",
            published_folder / f"{service}-api.json",
            "--output-path",
            package,
            "--meta",
            "none",
            "--config",
            CLIENT_CONFIG,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        found[service] = (package, result.stdout + result.stderr)
    sys.path.insert(0, str(folder))
    yield found
    sys.path.remove(str(folder))
    for name in [m for m in sys.modules if m.startswith("signpost_") and "_client" in m]:
        del sys.modules[name]


@pytest.mark.parametrize("service", SERVICES)
def test_each_client_is_generated_whole_without_a_warning_and_imports(
    service: str,
    generated: dict[str, tuple[Path, str]],
    service_documents: dict[str, dict[str, Any]],
) -> None:
    from openapi_python_client.strings import snake_case

    package, printed = generated[service]
    assert "warning" not in printed.lower(), printed
    modules = {path.stem for path in (package / "api").glob("*/*.py")}
    missing = [
        operation["operationId"]
        for _method, _path, operation in operations(service_documents[service])
        if snake_case(operation["operationId"]) not in modules
    ]
    assert missing == []
    package_name = package.name
    for module in sorted((package / "api").glob("*/*.py")):
        importlib.import_module(f"{package_name}.api.{module.parent.name}.{module.stem}")


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"signpost_referral_client.{name}")


async def test_the_referral_client_creates_searches_and_sends_a_message(
    generated: dict[str, tuple[Path, str]], referral_app: FastAPI
) -> None:
    api = "api.{}.{}".format
    create = _module(api("service_request", "create_service_request"))
    search = _module(api("service_request", "search_service_request"))
    process = _module(api("process_message", "process_message"))
    models = _module("models")
    client = _module("client").AuthenticatedClient(base_url="http://referral.test", token="-")
    client.set_async_httpx_client(
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=referral_app),
            base_url="http://referral.test",
            headers=bearer("referral:read", "referral:write", "referral:all-organisations"),
        )
    )
    async with client:
        sent = builders.service_request(identifier="CLIENT-0001")
        created = await create.asyncio_detailed(
            client=client, body=models.ServiceRequest.from_dict(sent)
        )
        assert created.status_code == 201
        referral = created.parsed
        assert isinstance(referral, models.ServiceRequest)
        assert referral.id and referral.meta.version_id == "1"
        assert referral.identifier[0].value == "CLIENT-0001"
        assert [c.coding[0].code for c in referral.reason_code] == [
            c["coding"][0]["code"] for c in sent["reasonCode"]
        ]

        found = await search.asyncio(
            client=client, identifier="https://emis.example/referral-id|CLIENT-0001"
        )
        assert isinstance(found, models.ServiceRequestSearchset)
        assert found.total == 1
        (entry,) = found.entry
        assert isinstance(entry.resource, models.ServiceRequest)
        assert entry.resource.id == referral.id

        update = messages.message(
            builders.service_request(identifier="CLIENT-0001", status="completed"),
            reason_code="update",
            timestamp="2026-10-02T09:00:00+00:00",
        )
        answered = await process.asyncio_detailed(
            client=client, body=models.MessageBundle.from_dict(update)
        )
        assert answered.status_code == 200
        response = answered.parsed
        assert isinstance(response, models.ResponseMessage)
        header, outcome = (entry.resource for entry in response.entry)
        assert isinstance(header, models.ResponseMessageHeader)
        assert header.response.identifier == update["id"]
        assert header.response.code == "ok"
        assert isinstance(outcome, models.OperationOutcome)
        assert outcome.issue[0].severity == "information"

        again = await search.asyncio(client=client, status="completed")
        assert [e.resource.id for e in again.entry] == [referral.id]
