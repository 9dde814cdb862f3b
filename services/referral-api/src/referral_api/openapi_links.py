"""The links of referral-api's OpenAPI document: a referral written is read, read at its
version and updated with the id, version and ETag of the answer. A message's answer names its
referral by full URL, which no OpenAPI runtime expression can take apart, so it links nowhere."""

from signpost_platform.openapi_links import (
    RESPONSE_ETAG,
    RESPONSE_ID,
    RESPONSE_VERSION,
    OperationLink,
)

_WRITTEN = [
    OperationLink(
        "readServiceRequest", {"path.referral_id": RESPONSE_ID}, "Read the referral written"
    ),
    OperationLink(
        "vreadServiceRequest",
        {"path.referral_id": RESPONSE_ID, "path.version_id": RESPONSE_VERSION},
        "Read the version written",
    ),
    OperationLink(
        "updateServiceRequest",
        {"path.referral_id": RESPONSE_ID, "header.if-match": RESPONSE_ETAG},
        "Update the referral: send it back, changed, with the ETag of the version written",
        request_body="$response.body",
    ),
]

LINKS = {"createServiceRequest": _WRITTEN, "updateServiceRequest": _WRITTEN}
