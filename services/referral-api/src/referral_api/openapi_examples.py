"""Synthetic examples for referral-api's OpenAPI document, keyed by operationId.

`data/openapi-examples.json` was captured from the real app replaying the synthetic EMIS journey
of the tests (9434765919 is a published test NHS number), so the examples are exactly what the
service answers. The ServiceRequest operations carry their examples in their routers.
"""

from signpost_platform.openapi_docs import OperationExamples, captured_examples

EXAMPLES: dict[str, OperationExamples] = captured_examples("referral_api")
