"""Conditional-request headers: `If-None-Exist` (conditional create) and `If-Match` (update)."""

from urllib.parse import parse_qsl

from signpost_platform.errors import BadRequest, PreconditionFailed, PreconditionRequired
from signpost_platform.fhir.responses import parse_if_match
from signpost_platform.fhir.search import Token, parse_token


def if_none_exist_identifier(header: str) -> Token:
    """`identifier=<system>|<value>` (URL-encoded or not) as a Token; nothing else is supported."""
    pairs = parse_qsl(header.strip(), keep_blank_values=True)
    if len(pairs) != 1 or pairs[0][0] != "identifier" or not pairs[0][1]:
        raise BadRequest(
            "If-None-Exist supports only identifier=<system>|<value>", expression="If-None-Exist"
        )
    return parse_token("If-None-Exist", pairs[0][1])


def create_condition(if_none_exist: str | None, identifier: str | None) -> Token | None:
    """The identifier a create is conditional on: `If-None-Exist`, or the same condition as the
    create's query string (`POST [type]?identifier=<system>|<value>`, the form fhirpy's
    `get_or_create` sends). Both at once must name the same identifier."""
    header = if_none_exist_identifier(if_none_exist) if if_none_exist else None
    if identifier is None:
        return header
    query = parse_token("identifier", identifier)
    if header is not None and header != query:
        raise BadRequest(
            "If-None-Exist and the identifier query parameter name different identifiers",
            expression="identifier",
        )
    return query


def required_version(if_match: str | None, stated: str | None = None) -> int:
    """The version an update replaces: `If-Match`, else the `meta.versionId` of the resource sent
    (`stated`), which FHIR lets a server that imposes version integrity read. With neither the
    update is refused (428): a client must say which version it changes."""
    if if_match:
        return parse_if_match(if_match)
    if stated is not None:
        if not stated.isdigit():
            raise BadRequest(
                "meta.versionId must be the version being replaced, such as 1",
                expression="meta.versionId",
            )
        return int(stated)
    raise PreconditionRequired(
        'an update must say which version it replaces: If-Match: W/"n", or the meta.versionId '
        "it was read with",
        expression="If-Match",
    )


def stale_version(what: str, current: int, expected: int) -> PreconditionFailed:
    """The 412 of an update that replaces version `expected` of `what` (a referral, a response)
    while version `current` is held."""
    return PreconditionFailed(
        f"the update replaces version {expected} (If-Match, or meta.versionId without it) but "
        f"the current version is {current}: read the {what} again and reapply the change",
        expression="If-Match",
    )
