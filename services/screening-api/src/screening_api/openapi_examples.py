"""Examples for screening-api's OpenAPI document, keyed by operationId.

`data/openapi-examples.json` is captured from the real app running one synthetic screen
(`python -m tests.support.screening_examples`; 9434765919 is a published test NHS number, the
clinic code is invented), so the examples are exactly what the service answers. The FHIR bodies
are documented with the profiles the routes validate them with.
"""

from signpost_platform.openapi_docs import OperationExamples, captured_examples
from signpost_schemas.fhir.screening_invitation import InvitationTask
from signpost_schemas.fhir.screening_response import ScreeningResponse

EXAMPLES: dict[str, OperationExamples] = captured_examples(
    "screening_api",
    {
        "createInvitationTask": InvitationTask,
        "createQuestionnaireResponse": ScreeningResponse,
        "updateQuestionnaireResponse": ScreeningResponse,
    },
)
