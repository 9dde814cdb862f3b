"""Examples for directory-api's OpenAPI document, keyed by operationId.

`data/openapi-examples.json` is captured from the real app on the synthetic London sample, with
a curator recording one invented organisation, location, taxonomy, term and service through
their lives (`python -m tests.support.directory_examples`; `.example` domains throughout), so
the examples are exactly what the service answers. The curation bodies are documented with the
models the routes validate them with, since those routes read their own bodies.
"""

from directory_api.locations.schemas import LocationIn
from directory_api.organizations.schemas import OrganizationIn
from directory_api.services.schemas import AssuranceIn, ServiceIn
from directory_api.taxonomy.schemas import TaxonomyIn, TaxonomyTermIn
from signpost_platform.openapi_docs import OperationExamples, captured_examples

IMPORT_SCHEMA = {
    "type": "array",
    "description": "Services as `GET /services/{id}` serves them (or one per line as NDJSON)",
    "items": {"type": "object"},
}

EXAMPLES: dict[str, OperationExamples] = captured_examples(
    "directory_api",
    {
        "createOrganization": OrganizationIn,
        "updateOrganization": OrganizationIn,
        "createLocation": LocationIn,
        "updateLocation": LocationIn,
        "createService": ServiceIn,
        "updateService": ServiceIn,
        "assureService": AssuranceIn,
        "createTaxonomy": TaxonomyIn,
        "updateTaxonomy": TaxonomyIn,
        "createTaxonomyTerm": TaxonomyTermIn,
        "updateTaxonomyTerm": TaxonomyTermIn,
        "importServices": IMPORT_SCHEMA,
    },
)
