"""`make openapi`: write each service's OpenAPI document to a folder (default docs/openapi/).

Besides `<service>-api.json` per service it writes `signpost.json`, one document for the three
services. In it every path is prefixed with its service (`/referral-api/fhir/ServiceRequest` is
`POST /fhir/ServiceRequest` on referral-api), each operation names its service and its path on
that service (`x-signpost-service`, `x-signpost-path`), operationIds and tags are prefixed with the
service (`referral.createServiceRequest`, `referral: ServiceRequest`) so they stay unique (the
operationIds links name too), and schemas that differ between services are prefixed the same way.
"""

import copy
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from signpost_platform.devserver import SERVICES

COMBINED_NAME = "signpost.json"
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


def documents() -> dict[str, dict[str, Any]]:
    """Each service's OpenAPI document, keyed by service name, built from its app factory."""
    result = {}
    for name, factory, _port in SERVICES:
        module_name, _, function = factory.partition(":")
        app = getattr(importlib.import_module(module_name), function)()
        result[name] = app.openapi()
    return result


def combined(services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One document for every service in `services` (see the module docstring for the layout)."""
    first = next(iter(services.values()))
    shared_schemas = _shared_schemas(services)
    document: dict[str, Any] = {
        "openapi": first["openapi"],
        "info": {
            "title": "Signpost APIs",
            "version": " / ".join(
                f"{name}-api {d['info']['version']}" for name, d in services.items()
            ),
            "description": "referral-api, directory-api and screening-api in one document. "
            "Paths are prefixed with their service (`/referral-api/...`); call the path in "
            "`x-signpost-path` on that service's base URL. See docs/integrator-guide.md.",
        },
        "servers": [
            {
                "url": "/",
                "description": "A gateway routing /<service>-api/ to each "
                "service (or strip the prefix and call the service directly)",
            }
        ],
        "paths": {},
        "tags": [],
        "components": {"schemas": {}, "securitySchemes": {}},
    }
    for name, service_document in services.items():
        renamed = {
            schema: schema if schema in shared_schemas else f"{name}.{schema}"
            for schema in service_document.get("components", {}).get("schemas", {})
        }
        service_document = _rename_refs(copy.deepcopy(service_document), renamed)
        for schema, definition in service_document.get("components", {}).get("schemas", {}).items():
            document["components"]["schemas"][renamed[schema]] = definition
        document["components"]["securitySchemes"].update(
            service_document.get("components", {}).get("securitySchemes", {})
        )
        for tag in service_document.get("tags", []):
            document["tags"].append({**tag, "name": f"{name}: {tag['name']}"})
        for path, item in service_document["paths"].items():
            prefixed: dict[str, Any] = {}
            for method, operation in item.items():
                if method in HTTP_METHODS:
                    operation["operationId"] = f"{name}.{operation['operationId']}"
                    operation["tags"] = [f"{name}: {tag}" for tag in operation.get("tags", [])]
                    operation["x-signpost-service"] = f"{name}-api"
                    operation["x-signpost-path"] = path
                    for response in operation.get("responses", {}).values():
                        for link in response.get("links", {}).values():
                            link["operationId"] = f"{name}.{link['operationId']}"
                prefixed[method] = operation
            document["paths"][f"/{name}-api{path}"] = prefixed
    return document


def _shared_schemas(services: dict[str, dict[str, Any]]) -> set[str]:
    """Schema names whose definition is the same in every service that has them."""
    definitions: dict[str, list[str]] = {}
    for service_document in services.values():
        for schema, definition in service_document.get("components", {}).get("schemas", {}).items():
            definitions.setdefault(schema, []).append(json.dumps(definition, sort_keys=True))
    return {schema for schema, seen in definitions.items() if len(set(seen)) == 1}


def _rename_refs(node: Any, renamed: dict[str, str]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.removeprefix("#/components/schemas/")
            node["$ref"] = f"#/components/schemas/{renamed.get(name, name)}"
        for value in node.values():
            _rename_refs(value, renamed)
    elif isinstance(node, list):
        for value in node:
            _rename_refs(value, renamed)
    return node


def rendered(document: dict[str, Any]) -> str:
    """The committed form of a document: sorted keys, two-space indent, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def published(services: dict[str, dict[str, Any]] | None = None) -> dict[str, str]:
    """File name → text of every document `make openapi` writes."""
    services = services if services is not None else documents()
    files = {f"{name}-api.json": rendered(document) for name, document in services.items()}
    files[COMBINED_NAME] = rendered(combined(services))
    return files


def main(argv: list[str] | None = None) -> int:
    folder = Path((argv or sys.argv[1:] or ["docs/openapi"])[0])
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, text in published().items():
        path = folder / file_name
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
