"""The CapabilityStatement and the OpenAPI document describe what is really supported."""

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from referral_api.referrals.search import PARAMETERS


async def test_capability_statement_is_valid_and_lists_the_search_parameters(client):
    response = await client.get("/fhir/metadata")

    assert response.status_code == 200
    statement = CapabilityStatement.model_validate(response.json())
    resources = {r.type: r for r in statement.rest[0].resource}
    resource = resources["ServiceRequest"]
    assert {i.code for i in resource.interaction} == {
        "create",
        "read",
        "vread",
        "update",
        "search-type",
    }
    assert resource.conditionalCreate is True
    assert resource.readHistory is False  # vread serves the current version only
    names = {p.name for p in resource.searchParam}
    assert names == {p.name for p in PARAMETERS}
    assert {
        "_id",
        "_lastUpdated",
        "subject:identifier",
        "patient:identifier",
        "patient.identifier",
        "subject.identifier",
        "subject:Patient.identifier",
        "requester:identifier",
    } <= names
    types = {p.name: p.type for p in resource.searchParam}
    assert types["requester"] == types["performer"] == "reference"
    assert "Prefer: handling=strict" in statement.rest[0].documentation
    assert "_summary" in statement.rest[0].documentation
    assert "servicerequest-response" in statement.rest[0].documentation  # messages back
    assert resources["Task"].searchParam[0].name == "focus"
    assert resources["Encounter"].searchParam[0].name == "based-on"
    assert resources["Observation"].searchParam[0].name == "based-on"


async def test_openapi_documents_every_endpoint_with_examples(client):
    spec = (await client.get("/openapi.json")).json()

    operations = {
        (path, method): operation
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    }
    for key in [("/fhir/ServiceRequest", "post"), ("/fhir/ServiceRequest/{referral_id}", "put")]:
        body = operations[key]["requestBody"]["content"]["application/fhir+json"]
        assert body["example"]["resourceType"] == "ServiceRequest"
    for key in [
        ("/fhir/ServiceRequest", "post"),
        ("/fhir/ServiceRequest", "get"),
        ("/fhir/ServiceRequest/{referral_id}", "get"),
        ("/fhir/ServiceRequest/{referral_id}", "put"),
    ]:
        responses = operations[key]["responses"]
        assert any(
            "example" in r.get("content", {}).get("application/fhir+json", {})
            for r in responses.values()
        ), key
    assert "ServiceRequest" in spec["components"]["schemas"]
    assert len({op["operationId"] for op in operations.values()}) == len(operations)
