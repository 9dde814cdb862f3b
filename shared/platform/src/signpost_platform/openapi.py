"""`make openapi`: write each service's OpenAPI document to a folder (default docs/openapi/)."""

import importlib
import json
import sys
from pathlib import Path

from signpost_platform.devserver import SERVICES


def documents() -> dict[str, dict[str, object]]:
    """Each service's OpenAPI document, keyed by service name, built from its app factory."""
    result = {}
    for name, factory, _port in SERVICES:
        module_name, _, function = factory.partition(":")
        app = getattr(importlib.import_module(module_name), function)()
        result[name] = app.openapi()
    return result


def main(argv: list[str] | None = None) -> int:
    folder = Path((argv or sys.argv[1:] or ["docs/openapi"])[0])
    folder.mkdir(parents=True, exist_ok=True)
    for name, document in documents().items():
        path = folder / f"{name}-api.json"
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
