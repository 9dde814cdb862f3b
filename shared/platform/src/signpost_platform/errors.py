"""Errors as values with a status, rendered in one place.

FHIR routes (`/fhir/...`) answer with an OperationOutcome; every other route answers with an
RFC 9457 problem+json body. Each issue names the offending element (`expression`) or parameter.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Scope

from signpost_platform.db import (
    database_unavailable,
    sqlstate,
    statement_timed_out,
    value_refused,
    write_conflict,
)

logger = logging.getLogger("signpost.errors")

FHIR_JSON = "application/fhir+json"
PROBLEM_JSON = "application/problem+json"
# How long a client should wait before retrying when the database is unavailable.
DATABASE_RETRY_AFTER_SECONDS = 2
# ...and when a statement ran past the statement timeout (the database is busy, or the query is
# costly: a narrower one may be the better retry).
TIMEOUT_RETRY_AFTER_SECONDS = 10


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in a request."""

    code: str
    diagnostics: str
    expression: list[str] | None = None
    severity: str = "error"


@dataclass
class SignpostError(Exception):
    """An error that carries its HTTP status and its issues."""

    status_code: int
    issues: list[Issue]
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return "; ".join(issue.diagnostics for issue in self.issues)


def _error(status: int, code: str) -> type[SignpostError]:
    class _Specific(SignpostError):
        def __init__(
            self,
            diagnostics: str,
            *,
            expression: str | list[str] | None = None,
            headers: dict[str, str] | None = None,
            issue_code: str | None = None,
        ) -> None:
            expressions = [expression] if isinstance(expression, str) else expression
            super().__init__(
                status, [Issue(issue_code or code, diagnostics, expressions)], headers or {}
            )

    return _Specific


class BadRequest(_error(400, "invalid")):  # type: ignore[misc]
    """The request cannot be understood (malformed body, bad parameter)."""


class Unauthorized(_error(401, "login")):  # type: ignore[misc]
    """No valid bearer token."""


class Forbidden(_error(403, "forbidden")):  # type: ignore[misc]
    """The token lacks the scope this operation needs."""


_Found = TypeVar("_Found")


class NotFound(_error(404, "not-found")):  # type: ignore[misc]
    """No such resource (or not visible to this caller)."""


class Conflict(_error(409, "conflict")):  # type: ignore[misc]
    """The request conflicts with stored data (e.g. a used identifier)."""


class PreconditionFailed(_error(412, "conflict")):  # type: ignore[misc]
    """`If-Match` names a version that is no longer current."""


class PayloadTooLarge(_error(413, "too-long")):  # type: ignore[misc]
    """The request body is over the configured limit."""


class UnsupportedMediaType(_error(415, "not-supported")):  # type: ignore[misc]
    """The body is not JSON."""


class Unprocessable(_error(422, "business-rule")):  # type: ignore[misc]
    """Well-formed, but breaks a profile or business rule."""


class PreconditionRequired(_error(428, "required")):  # type: ignore[misc]
    """An update without `If-Match`."""


def require_found(found: _Found | None, resource_type: str, resource_id: str) -> _Found:
    """`found`, or 404 when no `resource_type` has `resource_id` (or none the caller may see)."""
    if found is None:
        raise NotFound(f"no {resource_type} with id {resource_id}")
    return found


def require_url_id(
    body_id: str | None, url_id: str, resource_type: str, *, id_required: bool = False
) -> None:
    """400 at `<resource_type>.id` when an update's body names another resource than its URL. A
    body without an id is the URL's resource unless `id_required`."""
    if body_id is None and id_required:
        raise BadRequest(
            f"the resource has no id: it must carry the id in the URL ({url_id})",
            expression=f"{resource_type}.id",
        )
    if body_id is not None and body_id != url_id:
        raise BadRequest(
            f"the resource id ({body_id}) must match the id in the URL ({url_id})",
            expression=f"{resource_type}.id",
        )


def is_fhir_path(path: str) -> bool:
    """Whether `path`, a path within the app (`route_path`), is a FHIR one."""
    return path == "/fhir" or path.startswith("/fhir/")


def route_path(scope: Scope) -> str:
    """The request's path within the app: without the root path the server or a proxy mounts
    it at (`uvicorn --root-path /signpost`), which ASGI puts in front of `scope["path"]`, as
    Starlette's routing strips it. FHIR paths and the docs are told apart by this path."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        return path[len(root) :] or "/"
    return path


def element_path(location: Sequence[int | str], root: str = "") -> str:
    """A Pydantic error location as a FHIRPath: `("reasonCode", 0, "coding")` →
    `reasonCode[0].coding`, or `ServiceRequest.reasonCode[0].coding` under root
    `ServiceRequest`; empty for an empty location without a root."""
    path = root
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith("function-") or part in {"str", "date", "datetime"}:
            continue  # validator and union-branch names Pydantic adds to locations
        else:
            path += f".{part}" if path else part
    return path


def render_error(path: str, error: SignpostError) -> Response:
    """The response for `error`, shaped for the route family of `path`."""
    headers = {**error.headers}  # the correlation id is added by the envelope
    if is_fhir_path(path):
        body: dict[str, Any] = {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": issue.severity,
                    "code": issue.code,
                    "diagnostics": issue.diagnostics,
                    **({"expression": issue.expression} if issue.expression else {}),
                }
                for issue in error.issues
            ],
        }
        media_type = FHIR_JSON
    else:
        first = error.issues[0]
        body = {
            "type": "about:blank",
            "title": STATUS_TITLES.get(error.status_code, "Error"),
            "status": error.status_code,
            "detail": first.diagnostics,
            "errors": [
                {
                    "code": issue.code,
                    "detail": issue.diagnostics,
                    **({"parameter": issue.expression[0]} if issue.expression else {}),
                }
                for issue in error.issues
            ],
        }
        media_type = PROBLEM_JSON
    return Response(orjson.dumps(body), error.status_code, headers, media_type)


# The reason phrase of each status an error can have: the Problem body's `title`.
STATUS_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    428: "Precondition Required",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

_HTTP_ISSUE_CODES = {
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    413: "too-long",
    415: "not-supported",
    429: "throttled",
}


def _location_to_parameter(loc: tuple[int | str, ...]) -> str:
    """`("query", "_count")` → `_count`; `("body", "items", 0)` → `items[0]`."""
    parts = loc[1:] if loc and loc[0] in ("query", "path", "header", "body") else loc
    return element_path(parts) or str(loc[0] if loc else "request")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path (HEAD wherever GET is): the `Allow`
    header of a 405. Each method is tried against the app's routes, as the router would."""
    allowed = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
            if method == "GET":
                allowed.append("HEAD")
    return allowed


def _warn_with_sqlstate(message: str, path: str, error: Exception) -> None:
    """Log a database refusal with the SQLSTATE that says which rule refused it."""
    logger.warning(message, extra={"path": path, "sqlstate": sqlstate(error)})  # type: ignore[arg-type]


def _database_answer(
    path: str, status: int, code: str, diagnostics: str, *, retry_after: int | None = None
) -> Response:
    """The answer to a request the database turned away: one issue and, when a retry will
    do, how long to wait first."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return render_error(path, SignpostError(status, [Issue(code, diagnostics)], headers))


def install_error_handlers(app: FastAPI) -> None:
    """Map every error the app can raise to OperationOutcome or problem+json."""

    @app.exception_handler(SignpostError)
    async def _signpost_error(request: Request, error: SignpostError) -> Response:
        return render_error(route_path(request.scope), error)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError) -> Response:
        issues = [
            Issue(
                "invalid",
                f"{_location_to_parameter(tuple(e['loc']))}: {e['msg']}",
                [_location_to_parameter(tuple(e["loc"]))],
            )
            for e in error.errors()
        ]
        return render_error(route_path(request.scope), SignpostError(400, issues))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        code = _HTTP_ISSUE_CODES.get(error.status_code, "processing")
        detail = (
            error.detail if isinstance(error.detail, str) else STATUS_TITLES.get(error.status_code)
        )
        headers = dict(error.headers or {})
        if error.status_code == 405:
            allowed = allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            detail = f"{request.method} is not allowed here; allowed: {', '.join(allowed)}"
        return render_error(
            route_path(request.scope),
            SignpostError(error.status_code, [Issue(code, detail or "error")], headers),
        )

    @app.exception_handler(ClientDisconnect)
    async def _client_gone(request: Request, error: ClientDisconnect) -> Response:
        # The client hung up mid-request: nothing was processed and nobody reads the answer.
        logger.info("client disconnected before the request body arrived")
        return Response(status_code=499)

    async def _database_error(request: Request, error: Exception) -> Response:
        path = route_path(request.scope)
        if statement_timed_out(error):
            logger.warning("statement timeout", extra={"path": path})
            return _database_answer(
                path,
                503,
                "timeout",
                "the query took longer than this service allows; retry after the Retry-After "
                "delay, or narrow the search",
                retry_after=TIMEOUT_RETRY_AFTER_SECONDS,
            )
        if value_refused(error):
            # The edge checks should have refused the value first; say which check is missing.
            _warn_with_sqlstate("database refused a value", path, error)
            return _database_answer(
                path,
                422,
                "value",
                "a value in the request cannot be stored (too long, out of range or holding a "
                "NUL character); nothing was written",
            )
        if write_conflict(error):
            # Concurrent writers met (the services retry these a few times first): transient.
            _warn_with_sqlstate("write conflict", path, error)
            return _database_answer(
                path,
                503,
                "transient",
                "a concurrent write to the same records got in the way; nothing was written: "
                "retry after the Retry-After delay",
                retry_after=DATABASE_RETRY_AFTER_SECONDS,
            )
        if not database_unavailable(error):
            raise error  # a fault, not an outage: the 500 handler below logs it
        # A restart or failover: transient, and the client's retry is the recovery.
        logger.warning("database unavailable", extra={"path": path, "error": type(error).__name__})
        return _database_answer(
            path,
            503,
            "transient",
            "the database is unavailable for a moment; retry after the Retry-After delay (a "
            "retried conditional create or message is never duplicated)",
            retry_after=DATABASE_RETRY_AFTER_SECONDS,
        )

    for kind in (DBAPIError, PoolTimeout, ConnectionError):
        app.add_exception_handler(kind, _database_error)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        return unexpected_error(route_path(request.scope), error)


def unexpected_error(path: str, error: Exception) -> Response:
    """The 500 answering an error nothing else answers, logged with its traceback."""
    logger.error("unhandled error", extra={"path": path}, exc_info=error)
    return render_error(
        path,
        SignpostError(
            500,
            [Issue("exception", "internal error; quote the correlation id to the service desk")],
        ),
    )
