"""Bundle shapes: searchset results (and, later, messages)."""

from typing import Any, Literal

from pydantic import Field

from signpost_schemas.fhir.base import FhirModel, FhirResource
from signpost_schemas.fhir.datatypes import FhirUri, Meta


class BundleLink(FhirModel):
    relation: Literal["self", "first", "previous", "next", "last"]
    url: FhirUri


class BundleEntrySearch(FhirModel):
    mode: Literal["match", "include", "outcome"] = "match"


class BundleEntry(FhirModel):
    fullUrl: FhirUri | None = None
    resource: dict[str, Any] | None = None
    search: BundleEntrySearch | None = None


class SearchsetBundle(FhirResource):
    """A page of search results (`Bundle.type = searchset`)."""

    resourceType: Literal["Bundle"] = "Bundle"
    id: str | None = None
    meta: Meta | None = None
    type: Literal["searchset"] = "searchset"
    total: int | None = Field(default=None, ge=0)
    link: list[BundleLink] = Field(default_factory=list)
    entry: list[BundleEntry] = Field(default_factory=list)
