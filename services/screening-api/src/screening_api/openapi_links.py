"""The links of screening-api's OpenAPI document: a submitted response is read, updated (while
in progress) and followed to its referral hand-off; a questionnaire found is read."""

from signpost_platform.openapi_links import RESPONSE_ETAG, RESPONSE_ID, OperationLink

_SUBMITTED = [
    OperationLink(
        "readQuestionnaireResponse",
        {"path.response_id": RESPONSE_ID},
        "Read the response submitted",
    ),
    OperationLink(
        "updateQuestionnaireResponse",
        {"path.response_id": RESPONSE_ID, "header.if-match": RESPONSE_ETAG},
        "Update a response still in progress, with the ETag of the version written",
        request_body="$response.body",
    ),
    OperationLink(
        "readReferralHandoff",
        {"path.response_id": RESPONSE_ID},
        "Follow the referral a positive screen asking for help raised",
    ),
]

LINKS = {
    "createQuestionnaireResponse": _SUBMITTED,
    "updateQuestionnaireResponse": _SUBMITTED,
    "searchQuestionnaire": [
        OperationLink(
            "readQuestionnaire",
            {"path.questionnaire_id": "$response.body#/entry/0/resource/id"},
            "Read the first questionnaire found",
        )
    ],
}
