"""The routes every curated record kind shares: create, replace, retire and read by id.

Organisations, locations, services, taxonomies and taxonomy terms answer them the same way: a
create answers 201 with a Location header (200 when it repeats an earlier create), the others
answer the record as stored, with its ETag when the kind has versions. A route's own words
(operationId, summary, description, documented refusals) are given where it is added, beside
the kind's other routes.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Protocol, Required, TypedDict, TypeVar, Unpack

from fastapi import APIRouter, Header, Path, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from directory_api.bodies import expected_version, json_response, parse_body
from directory_api.curation import Outcome, WriteCaller, WriteMode
from directory_api.oruk.params import as_uuid
from signpost_platform.db import ReadSessionDep, SessionDep
from signpost_platform.urls import base_url


class RouteText(TypedDict, total=False):
    """What a route says of itself in the OpenAPI document."""

    operation_id: Required[str]
    description: Required[str]
    summary: Required[str]
    # The answers it documents beyond the platform's (refusals, mostly).
    responses: dict[int | str, dict[str, Any]]


# The body a route answers a record with, and the version its ETag names (None: no ETag).
Served = tuple[bytes | str, int | None]


class Identified(Protocol):
    @property
    def id(self) -> str: ...


class Documented(Identified, Protocol):
    @property
    def document(self) -> str: ...


class VersionedDocument(Documented, Protocol):
    @property
    def version(self) -> int: ...


def document_with_version(stored: VersionedDocument) -> Served:
    """A record with versions: its stored ORUK document, and its version as the ETag."""
    return stored.document, stored.version


def document_alone(stored: Documented) -> Served:
    """A record without versions (taxonomy terms): its stored ORUK document, no ETag."""
    return stored.document, None


Payload = TypeVar("Payload", bound=BaseModel)
Record = TypeVar("Record", bound=Identified)


@dataclass(frozen=True)
class RecordRoutes(Generic[Payload, Record]):
    """One record kind's routes: `collection` is its list path ("/organizations"), `parameter`
    names the id in its item paths ("organization_id", the name the OpenAPI document shows).

    `save(session, payload, mode, record_id[, expected_version])` is the kind's create or
    update (the If-Match version only where `add_replace` is told the kind takes one);
    `served` turns what it returns into the answer's body and ETag version."""

    collection: str
    parameter: str
    payload: type[Payload]
    save: Callable[..., Awaitable[tuple[Record, Outcome]]]
    served: Callable[[Record], Served]

    @property
    def item(self) -> str:
        return f"{self.collection}/{{{self.parameter}}}"

    def add_create(self, router: APIRouter, **text: Unpack[RouteText]) -> None:
        """POST {collection}: the record saved with `WriteMode.CREATE`."""

        async def create(request: Request, session: SessionDep, _caller: WriteCaller) -> Response:
            payload = await parse_body(request, self.payload)
            stored, outcome = await self.save(session, payload, WriteMode.CREATE)
            body, version = self.served(stored)
            location = f"{base_url(request)}{self.collection}/{stored.id}"
            status = 201 if outcome is Outcome.CREATED else 200
            return json_response(body, status, version, {"Location": location})

        router.add_api_route(self.collection, create, methods=["POST"], status_code=201, **text)

    def add_replace(
        self,
        router: APIRouter,
        *,
        if_match: bool,
        **text: Unpack[RouteText],
    ) -> None:
        """PUT {collection}/{id}: the record saved with `WriteMode.UPDATE`; with `if_match`, an
        If-Match header names the version the change was made to."""

        async def replace(
            url_id: Annotated[str, Path(alias=self.parameter)],
            request: Request,
            session: SessionDep,
            _caller: WriteCaller,
        ) -> Response:
            payload = await parse_body(request, self.payload)
            stored, _ = await self.save(session, payload, WriteMode.UPDATE, as_uuid("id", url_id))
            return self._answer(stored)

        async def replace_if_match(
            url_id: Annotated[str, Path(alias=self.parameter)],
            request: Request,
            session: SessionDep,
            _caller: WriteCaller,
            if_match: Annotated[str | None, Header()] = None,
        ) -> Response:
            payload = await parse_body(request, self.payload)
            stored, _ = await self.save(
                session,
                payload,
                WriteMode.UPDATE,
                as_uuid("id", url_id),
                expected_version(if_match),
            )
            return self._answer(stored)

        endpoint = replace_if_match if if_match else replace
        router.add_api_route(self.item, endpoint, methods=["PUT"], **text)

    def add_retire(
        self,
        router: APIRouter,
        retire: Callable[[AsyncSession, str], Awaitable[Record]],
        **text: Unpack[RouteText],
    ) -> None:
        """POST {collection}/{id}/retire."""

        async def retire_record(
            url_id: Annotated[str, Path(alias=self.parameter)],
            session: SessionDep,
            _caller: WriteCaller,
        ) -> Response:
            return self._answer(await retire(session, as_uuid("id", url_id)))

        router.add_api_route(f"{self.item}/retire", retire_record, methods=["POST"], **text)

    def add_read(
        self,
        router: APIRouter,
        read: Callable[[AsyncSession, str], Awaitable[Record]],
        **text: Unpack[RouteText],
    ) -> None:
        """GET {collection}/{id}, open to all (the ORUK reads)."""

        async def read_record(
            url_id: Annotated[str, Path(alias=self.parameter)], session: ReadSessionDep
        ) -> Response:
            return self._answer(await read(session, as_uuid("id", url_id)))

        router.add_api_route(self.item, read_record, methods=["GET"], **text)

    def _answer(self, stored: Record) -> Response:
        body, version = self.served(stored)
        return json_response(body, version=version)
