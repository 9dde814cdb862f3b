"""Checks every request body gets before any route reads it (`signpost_platform.routing`).

* A NUL character anywhere (a raw byte, or `\\u0000` in a JSON string or key) is refused with 400
  naming the element: PostgreSQL text cannot hold one, so it used to surface as a 500.
* A control character other than tab, carriage return and line feed in a JSON string is refused
  with 400 naming the element: FHIR strings cannot hold one, and whatever is stored is served
  as FHIR somewhere (a directory service as a HealthcareService, an event as a ServiceRequest).
* Except in free text on the routes that read their body leniently (`@keeps_free_text`: referral
  writes and messages, which EMIS and Rio send). There a NUL or control character in free text
  (`signpost_schemas.fhir.lenient.FREE_TEXT`) is left for the reader, which keeps the text with
  the character replaced and says so in a `replaced-characters` warning: a referral is not
  refused for a character pasted into its notes. Anywhere else in the body it is still refused.
* A JSON object that gives one key twice is refused with 400 naming the key: parsers disagree on
  which value wins (ours kept the last), so a body could mean one thing to a gateway or an
  auditor and another to the service.
* A body whose objects and arrays nest more than `MAX_DEPTH` levels is refused with 400: the
  readers after this check recurse per level and would otherwise fail with a 500.

JSON bodies (`application/json`, `application/fhir+json`, any `+json`) are checked as one
document, NDJSON line by line. A body that is not valid JSON is left to the route, which says
so in its own words.
"""

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from fastapi import Request

from signpost_platform.errors import BadRequest, is_fhir_path, route_path
from signpost_schemas.fhir.lenient import CONTROL_CHARACTERS, FREE_TEXT

_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# How deeply a body's objects and arrays may nest. A FHIR message is about a dozen levels deep at
# most; the readers after this check recurse per level, so a deeper body would exhaust Python's
# stack (a 500) rather than be refused.
MAX_DEPTH = 64
_NDJSON = {"application/x-ndjson", "application/ndjson"}
_NUL_ESCAPE = b"\\u0000"
# What a FHIR string may not hold (CONTROL_CHARACTERS) can only arrive escaped in JSON
# (\\u0001, \\b, \\f).
_CONTROL_ESCAPE = re.compile(rb"\\(u00[01][0-9a-fA-F]|[bf])")


Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
_KEEPS_FREE_TEXT = "__signpost_keeps_free_text__"


def keeps_free_text(endpoint: Endpoint) -> Endpoint:
    """Mark a route whose body is read leniently (`signpost_platform.fhir.parsing.read_resource`,
    `read_document`): NUL and control characters in its free text are replaced by the reader,
    with a warning, instead of refused here."""
    setattr(endpoint, _KEEPS_FREE_TEXT, True)
    return endpoint


def load_json(body: bytes) -> Any:
    """The JSON document `body` holds, or 400 saying why it is not JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"the body is not valid JSON: {error}", issue_code="structure") from None


def load_json_object(body: bytes) -> dict[str, Any]:
    """The JSON object `body` holds, or 400 when it is not JSON or not an object."""
    document = load_json(body)
    if not isinstance(document, dict):
        raise BadRequest("the body must be a JSON object", issue_code="structure")
    return document


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


async def check_body(request: Request) -> None:
    """Refuse (400, naming the element) a body with a NUL or control character, or a repeated
    JSON key (free text on `@keeps_free_text` routes excepted)."""
    if request.method not in _BODY_METHODS:
        return
    body = await request.body()
    if not body:
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fhir = is_fhir_path(route_path(request.scope))
    endpoint = getattr(request.scope.get("route"), "endpoint", None)
    skipped = FREE_TEXT if getattr(endpoint, _KEEPS_FREE_TEXT, False) else frozenset()
    if content_type in _NDJSON:
        for number, line in enumerate(body.splitlines(), start=1):
            if line.strip():
                _check_json(line, fhir, f"line {number}: ", skipped)
    elif content_type in ("application/json", "application/fhir+json") or (
        content_type.endswith("+json")
    ):
        _check_json(body, fhir, "", skipped)
    _refuse_raw_nul(body)


def check_fhir_json(body: bytes, *, keeps_free_text: bool) -> None:
    """The checks `check_body` makes of a FHIR JSON body, for one that does not arrive as a
    request (a row of a bulk import): 400 (BadRequest) naming what cannot be stored."""
    _check_json(body, True, "", FREE_TEXT if keeps_free_text else frozenset())
    _refuse_raw_nul(body)


def _refuse_raw_nul(body: bytes) -> None:
    if b"\x00" in body:
        raise BadRequest("the body contains a NUL character", issue_code="value")


def _check_json(text: bytes, fhir: bool, prefix: str, free_text: frozenset[str]) -> None:
    """Refuse a repeated key, and a NUL or control character in any string or key but the
    strings directly under a `free_text` key."""
    try:
        document = json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKey as duplicate:
        raise BadRequest(
            f"{prefix}the key {duplicate.key!r} is given more than once in one object",
            expression=duplicate.key,
            issue_code="structure",
        ) from None
    except ValueError:  # not JSON (or not UTF-8): the route reports it
        return
    except RecursionError:
        raise _too_deep(prefix) from None
    # Nesting deeper than MAX_DEPTH needs more than MAX_DEPTH brackets: counted in C first.
    if text.count(b"[") + text.count(b"{") > MAX_DEPTH and _depth(document) > MAX_DEPTH:
        raise _too_deep(prefix)
    root = document.get("resourceType") if fhir and isinstance(document, dict) else None
    start = root if isinstance(root, str) else ""
    if _NUL_ESCAPE in text:
        path = _first_path(document, start, lambda value: "\x00" in value, free_text)
        if path is not None:
            element = _printable(path)
            raise BadRequest(
                f"{prefix}{element}: contains a NUL character (\\u0000), which cannot be stored",
                expression=element,
                issue_code="value",
            )
    if _CONTROL_ESCAPE.search(text):
        path = _first_path(
            document, start, lambda value: CONTROL_CHARACTERS.search(value) is not None, free_text
        )
        if path is not None:
            element = _printable(path)
            raise BadRequest(
                f"{prefix}{element}: contains a control character, which a FHIR string cannot "
                "hold (only tab, carriage return and line feed are allowed below U+0020)",
                expression=element,
                issue_code="value",
            )


def _too_deep(prefix: str) -> BadRequest:
    return BadRequest(
        f"{prefix}the body is nested more than {MAX_DEPTH} levels deep (objects and arrays "
        "within one another); no resource Signpost reads is",
        issue_code="structure",
    )


def _depth(document: Any) -> int:
    """How deeply objects and arrays nest in `document` (without recursion: it is unbounded)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _printable(path: str) -> str:
    return CONTROL_CHARACTERS.sub(lambda found: f"\\u{ord(found.group()):04x}", path or "(body)")


def _first_path(
    value: Any, path: str, holds: Callable[[str], bool], skipped: frozenset[str]
) -> str | None:
    """The path of the first string (or key) that `holds`, FHIRPath-like, but strings directly
    under a `skipped` key; None if none."""
    if isinstance(value, str):
        return path if holds(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            if holds(key):
                return child
            if key in skipped and isinstance(item, str):
                continue
            found = _first_path(item, child, holds, skipped)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_path(item, f"{path}[{index}]", holds, skipped)
            if found is not None:
                return found
    return None
