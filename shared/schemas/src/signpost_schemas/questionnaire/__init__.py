"""Structured Data Capture: Questionnaires, their responses, and the rules between them.

General FHIR R4 / SDC logic with nothing specific to one questionnaire: the models
(`Questionnaire`, `QuestionnaireResponse`), `enableWhen` evaluation (`enabled_link_ids`), and
validation of a response against its questionnaire (`validate_response`).
"""

from signpost_schemas.questionnaire.enablement import (
    answers_by_link_id,
    coding_equal,
    condition_holds,
    enabled_link_ids,
    walk_definitions,
    walk_response,
)
from signpost_schemas.questionnaire.model import (
    AnswerOption,
    EnableWhen,
    Questionnaire,
    QuestionnaireItem,
    QuestionnaireResponse,
    ResponseAnswer,
    ResponseItem,
)
from signpost_schemas.questionnaire.validation import (
    ResponseIssue,
    questionnaire_issues,
    validate_response,
)

__all__ = [
    "AnswerOption",
    "EnableWhen",
    "Questionnaire",
    "QuestionnaireItem",
    "QuestionnaireResponse",
    "ResponseAnswer",
    "ResponseIssue",
    "ResponseItem",
    "answers_by_link_id",
    "coding_equal",
    "condition_holds",
    "enabled_link_ids",
    "questionnaire_issues",
    "validate_response",
    "walk_definitions",
    "walk_response",
]
