"""Conditional-request headers: `If-None-Exist` (conditional create) and `If-Match` (update)."""

from urllib.parse import parse_qsl

from signpost_platform.errors import BadRequest, PreconditionRequired
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


def required_version(if_match: str | None) -> int:
    """The version an update replaces; updates without `If-Match` are refused (428)."""
    if not if_match:
        raise PreconditionRequired(
            'an update must send If-Match with the version it replaces (W/"n")',
            expression="If-Match",
        )
    return parse_if_match(if_match)
