"""The links of directory-api's OpenAPI document: each record curated is read (ORUK and FHIR
views), updated with its ETag and retired; an import is followed to its report."""

from collections.abc import Sequence

from signpost_platform.openapi_links import RESPONSE_ETAG, RESPONSE_ID, OperationLink


def _curated(
    parameter: str,
    read: Sequence[str],
    update: str,
    retire: str | None = None,
    guarded: bool = True,
) -> list[OperationLink]:
    """Links from an answer carrying a record: its reads, its update and its retirement."""
    by_id = {f"path.{parameter}": RESPONSE_ID}
    links = [OperationLink(operation, by_id, "Read the record written") for operation in read]
    links.append(
        OperationLink(
            update,
            {**by_id, "header.if-match": RESPONSE_ETAG} if guarded else by_id,
            "Replace the record written: send it back, changed"
            + (", with its ETag" if guarded else ""),
            request_body="$response.body",
        )
    )
    if retire is not None:
        links.append(OperationLink(retire, by_id, "Retire the record written"))
    return links


_ORGANIZATION = _curated(
    "organization_id",
    ["getOrganizationById", "readOrganization"],
    "updateOrganization",
    "retireOrganization",
)
_SERVICE = [
    *_curated(
        "service_id",
        ["getFullyNestedServiceById", "readHealthcareService"],
        "updateService",
        "retireService",
    ),
    OperationLink("assureService", {"path.service_id": RESPONSE_ID}, "Record its assurance"),
]
_LOCATION = _curated(
    "location_id", ["getLocation", "readLocation"], "updateLocation", "retireLocation"
)
_TAXONOMY = _curated("taxonomy_id", ["getTaxonomyById"], "updateTaxonomy", guarded=False)
_TERM = _curated(
    "term_id", ["getTaxonomyTermById"], "updateTaxonomyTerm", "retireTaxonomyTerm", guarded=False
)

LINKS = {
    "createOrganization": _ORGANIZATION,
    "updateOrganization": _ORGANIZATION,
    "createService": _SERVICE,
    "updateService": _SERVICE,
    "createLocation": _LOCATION,
    "updateLocation": _LOCATION,
    "createTaxonomy": _TAXONOMY,
    "updateTaxonomy": _TAXONOMY,
    "createTaxonomyTerm": _TERM,
    "updateTaxonomyTerm": _TERM,
    "importServices": [
        OperationLink("getImport", {"path.job_id": RESPONSE_ID}, "Read the import's report")
    ],
}
