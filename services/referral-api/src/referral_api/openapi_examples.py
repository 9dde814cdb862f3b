"""Synthetic examples for referral-api's OpenAPI document, keyed by operationId.

`data/openapi-examples.json` was captured from the real app replaying the synthetic EMIS journey
of the tests (9434765919 is a published test NHS number), so the examples are exactly what the
service answers. The ServiceRequest operations carry their examples in their routers.
"""

import json
from importlib import resources

from signpost_platform.openapi_docs import OperationExamples


def _load() -> dict[str, OperationExamples]:
    text = (
        resources.files("referral_api")
        .joinpath("data", "openapi-examples.json")
        .read_text(encoding="utf-8")
    )
    return {
        operation_id: OperationExamples(
            request=captured.get("request"),
            responses={int(status): body for status, body in captured["responses"].items()},
        )
        for operation_id, captured in json.loads(text).items()
    }


EXAMPLES: dict[str, OperationExamples] = _load()
