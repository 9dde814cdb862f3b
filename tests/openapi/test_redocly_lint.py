"""Redocly's recommended rules find no error in any service's OpenAPI document.

Generators and gateways read these documents whole; an error there (an operation with no
security declared, a constraint under a name no tool reads, no servers) is a client that
cannot be generated or a request it cannot send."""

import json
from pathlib import Path
from typing import Any

from tests.openapi.tools import REDOCLY, SERVICES, requires_openapi_tools, run

pytestmark = requires_openapi_tools


def test_every_document_passes_the_recommended_rules(published_folder: Path) -> None:
    files = [f"{service}-api.json" for service in SERVICES]
    linted = run(
        REDOCLY, "lint", "--extends=recommended", "--format=json", *files, cwd=published_folder
    )
    reports = _reports(linted.stdout)
    assert len(reports) == len(files), linted.stderr
    errors = [
        f"{location['source']['ref']} {location['pointer']}: {problem['ruleId']}: "
        f"{problem['message']}"
        for report in reports
        for problem in report["problems"]
        if problem["severity"] == "error"
        for location in problem["location"][:1]
    ]
    assert errors == []
    assert linted.returncode == 0, linted.stderr


def _reports(text: str) -> list[dict[str, Any]]:
    """The JSON report of each document (Redocly prints one object per file, one after another)."""
    decoder = json.JSONDecoder()
    reports, position = [], 0
    while (position := _skip_space(text, position)) < len(text):
        report, position = decoder.raw_decode(text, position)
        reports.append(report)
    return reports


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position
