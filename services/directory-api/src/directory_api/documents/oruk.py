"""The ORUK documents, built from validated input and stored records when a record changes.

Organisations and locations are rendered from their own input; a service from its stored
content with its organisation, locations and taxonomy terms nested (`rendering` gathers them);
a taxonomy from its row, at read time (it has no stored document).
"""

from datetime import datetime
from typing import Any

import orjson

from directory_api.documents.shape import (
    Document,
    content_of,
    one_to_one,
    ordered,
    timestamp,
    with_child_ids,
    without_empties,
)
from directory_api.locations.schemas import LocationIn
from directory_api.organizations.schemas import OrganizationIn
from directory_api.services.repository import AttributeRow, LinkRow, StoredService
from directory_api.taxonomy.repository import StoredTaxonomy
from directory_api.taxonomy.schemas import TaxonomyTermIn

_SERVICE_ORDER = [
    "id",
    "organization_id",
    "name",
    "alternate_name",
    "description",
    "url",
    "email",
    "status",
    "fees",
    "fees_description",
    "accreditations",
    "eligibility_description",
    "application_process",
    "interpretation_services",
    "minimum_age",
    "maximum_age",
    "assured_date",
    "assurer_email",
    "alert",
    "accepts_self_referral",
    "last_modified",
]


def organization_document(organization_id: str, payload: OrganizationIn) -> Document:
    """The ORUK organization (identifiers and phones get ids, kept if sent)."""
    content = content_of(payload, exclude={"id"})
    content["organization_identifiers"] = with_child_ids(
        content.get("organization_identifiers"), organization_id=organization_id
    )
    content["phones"] = with_child_ids(content.get("phones"), organization_id=organization_id)
    document = {"id": organization_id, **{k: v for k, v in content.items() if v}}
    return ordered(document, ["id", "name", "alternate_name", "description"])


def location_document(
    location_id: str, payload: LocationIn, centroid: tuple[float, float] | None
) -> Document:
    """The ORUK location; without coordinates, the postcode `centroid` (when known) stands in."""
    content = content_of(payload, exclude={"id"})
    for key in ("addresses", "accessibility", "phones"):
        content[key] = with_child_ids(content.get(key), location_id=location_id)
    if "latitude" not in content and centroid is not None:
        # No coordinates sent: the postcode centroid stands in, so proximity search finds it.
        content["latitude"], content["longitude"] = centroid
    document = {"id": location_id, **{k: v for k, v in content.items() if v not in ([], None)}}
    return ordered(document, ["id", "location_type", "name", "description"])


def taxonomy_document(taxonomy: StoredTaxonomy) -> Document:
    """The ORUK taxonomy, from its row."""
    return without_empties(
        {
            "id": taxonomy.id,
            "name": taxonomy.name,
            "description": taxonomy.description,
            "uri": taxonomy.uri,
            "version": taxonomy.version,
        }
    )


def term_document(
    term_id: str, payload: TaxonomyTermIn, taxonomy: StoredTaxonomy | None
) -> Document:
    """The ORUK taxonomy_term, with the legacy UK `term` twin of `name`."""
    document = {
        "id": term_id,
        "name": payload.name,
        "description": payload.description,
        "code": payload.code,
        "parent_id": payload.parent_id,
        "taxonomy": taxonomy.name if taxonomy else payload.taxonomy,
        "taxonomy_id": payload.taxonomy_id,
        "term_uri": payload.term_uri,
        "term": payload.name,
        "language": payload.language,
    }
    return ordered(without_empties(document), ["id", "name", "description"])


def link_document(service_id: str, link: LinkRow, location: Document) -> Document:
    """A service_at_location as nested in its service, with its location."""
    return ordered(
        {
            "id": link.id,
            "service_id": service_id,
            "location_id": link.location_id,
            **orjson.loads(link.content),
            "location": location,
        },
        ["id", "service_id", "location_id"],
    )


def attribute_document(service_id: str, attribute: AttributeRow, term: Document) -> Document:
    """An attribute of a service (a taxonomy term it is tagged with), with its term."""
    return {
        "id": attribute.id,
        "link_id": service_id,
        "link_type": attribute.link_type or "service_type",
        "link_entity": "service",
        "taxonomy_term_id": attribute.taxonomy_term_id,
        "taxonomy_term": term,
    }


def service_document(
    service: StoredService,
    content: dict[str, Any],
    organization: Document,
    links: list[Document],
    attributes: list[Document],
    last_modified: datetime,
) -> Document:
    """The fully nested ORUK service."""
    document: Document = {
        "id": service.id,
        "organization_id": service.organization_id,
        **content,
        "status": service.status,
        "last_modified": timestamp(last_modified),
    }
    if links:
        document["service_at_locations"] = links
    if attributes:
        document["attributes"] = attributes
    document["organization"] = organization
    return ordered(document, _SERVICE_ORDER)


def service_summary(document: Document, organization: Document) -> Document:
    """A service as list items show it: its one-to-one fields and its organisation's."""
    return {**one_to_one(document), "organization": one_to_one(organization)}
