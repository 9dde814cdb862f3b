"""fhir-kit-client (JavaScript) against a real referral-api: the flows of `node/flows.mjs`, run
once per backend, each reported as its own test.

The client sends `If-None-Exist` and `If-Match` as per-request headers, reads `ETag` from its
responses, pages with `nextPage`, counts with `_summary=count` (it has no count helper) and
calls `$process-message` with `operation`. Needs node and `tests/clients/node/setup.sh`; skipped
when they are missing, unless SIGNPOST_REQUIRE_CLIENT_TOOLS=1 (CI).
"""

import asyncio
import json

import pytest

from tests.clients import scenario
from tests.clients.conftest import Referral
from tests.support import fhir_corpus
from tests.support.tools import requires_tools

NODE = fhir_corpus.VALIDATOR
pytestmark = requires_tools(
    fhir_corpus.missing(["fhir-kit-client"]), fhir_corpus.SETUP, fhir_corpus.REQUIRE
)
FLOWS = [
    "capabilities",
    "create",
    "conditionalCreate",
    "read",
    "search",
    "paging",
    "count",
    "update",
    "staleUpdateRefused",
    "processMessage",
]


@pytest.fixture(scope="module")
async def results(referral_server: Referral, tmp_path_factory) -> dict[str, str]:
    """What each flow came to, from one run of the script against an empty referral-api."""
    await referral_server.empty()
    scenario_file = tmp_path_factory.mktemp("fhir-kit-client") / "scenario.json"
    scenario_file.write_text(json.dumps(scenario.for_node()))
    process = await asyncio.create_subprocess_exec(
        "node",
        str(NODE / "flows.mjs"),
        f"{referral_server.url}/fhir",
        str(scenario_file),
        cwd=NODE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    await referral_server.idle()
    assert process.returncode == 0, stderr.decode()
    reported: dict[str, str] = json.loads(stdout)
    assert sorted(reported) == sorted(FLOWS)
    return reported


@pytest.mark.parametrize("flow", FLOWS)
async def test_flow(results: dict[str, str], flow: str) -> None:
    assert results[flow] == "passed"
