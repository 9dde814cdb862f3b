"""Searchset Bundles, as the searches answer them (their shape for the OpenAPI documents).

`searchset_of(ServiceRequest)` is a page of ServiceRequests: its entries are the matches, cut down
when `_elements` or `_summary=data` asks (then they are `SubsettedResource`s, tagged SUBSETTED),
and, last, an OperationOutcome naming the parameters the search ignored (`search.mode =
outcome`). Searches splice stored JSON into the Bundle (`signpost_platform.fhir.search`); these
models describe what they build.
"""

import functools
from typing import Any, Literal, cast

from pydantic import ConfigDict, Field, create_model

from signpost_schemas.fhir.base import FhirModel, FhirResource, no_nulls
from signpost_schemas.fhir.datatypes import FhirId, FhirUri, Meta
from signpost_schemas.fhir.operation_outcome import OperationOutcome


class BundleLink(FhirModel):
    relation: Literal["self", "first", "previous", "next", "last"]
    url: FhirUri


class BundleEntrySearch(FhirModel):
    mode: Literal["match", "include", "outcome"] = "match"


class SubsettedResource(FhirModel):
    """A match cut down by `_elements` (resourceType, id, meta and the elements asked for) or
    `_summary=data` (without its narrative), tagged SUBSETTED in `meta.tag`: it need not carry
    every element its profile requires."""

    model_config = ConfigDict(
        extra="allow", json_schema_extra=lambda schema, _model: no_nulls(schema)
    )

    resourceType: str
    id: FhirId | None = None
    meta: Meta | None = None


class Searchset(FhirResource):
    """A page of search results (`Bundle.type = searchset`): `total` unless `_total=none`, the
    `self`, `first`, `previous` and `next` links, and the entries (see `searchset_of`)."""

    resourceType: Literal["Bundle"] = "Bundle"
    id: FhirId | None = None
    meta: Meta | None = None
    type: Literal["searchset"] = "searchset"
    total: int | None = Field(default=None, ge=0)
    link: list[BundleLink] = Field(default_factory=list)
    entry: list[Any] = Field(default_factory=list)


@functools.cache
def searchset_of(matched: type[FhirResource]) -> type[Searchset]:
    """The searchset Bundle of `matched` resources, named after it (`ServiceRequestSearchset`,
    entries `ServiceRequestSearchsetEntry`): each entry a match (with its `fullUrl`), a match
    cut down by `_elements` or `_summary=data`, or the OperationOutcome of the ignored
    parameters."""
    name = matched.__name__
    entry = create_model(
        f"{name}SearchsetEntry",
        __base__=FhirModel,
        __doc__=f"A {name} found (search.mode match), or the parameters the search ignored "
        "(an OperationOutcome, search.mode outcome).",
        fullUrl=(FhirUri | None, None),
        resource=(cast(Any, matched | OperationOutcome | SubsettedResource), ...),
        search=(BundleEntrySearch | None, None),
    )
    return create_model(
        f"{name}Searchset",
        __base__=Searchset,
        __doc__=f"A page of {name} search results (Bundle.type searchset).",
        entry=(list[entry], Field(default_factory=list)),  # type: ignore[valid-type]
    )
