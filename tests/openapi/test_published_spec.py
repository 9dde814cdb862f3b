"""The OpenAPI documents other teams build against: committed, complete and consistent."""

from pathlib import Path
from typing import Any

import pytest

from signpost_platform.openapi import combined, published
from tests.openapi.spec_rules import example_gaps, operations, structural_gaps

PUBLISHED = Path(__file__).resolve().parents[2] / "docs" / "openapi"


def test_committed_documents_match_the_code(service_documents: dict[str, dict[str, Any]]) -> None:
    stale = []
    for file_name, text in published(service_documents).items():
        path = PUBLISHED / file_name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(file_name)
    assert not stale, (
        f"docs/openapi/ is out of date for {stale}: run `make openapi` and commit the result"
    )


def test_every_operation_has_an_id_a_tag_and_documented_errors(
    service_documents: dict[str, dict[str, Any]],
) -> None:
    gaps = {
        f"{service} {method} {path}": found
        for service, document in service_documents.items()
        for method, path, operation in operations(document)
        if (found := structural_gaps(operation))
    }
    assert gaps == {}


def test_every_request_body_and_success_response_has_an_example(
    service_documents: dict[str, dict[str, Any]],
) -> None:
    gaps = {}
    for service, document in service_documents.items():
        for method, path, operation in operations(document):
            if found := example_gaps(operation):
                gaps[f"{service} {method} {path} ({operation['operationId']})"] = found
    assert gaps == {}


def test_operation_ids_are_unique_in_the_combined_document(
    service_documents: dict[str, dict[str, Any]],
) -> None:
    document = combined(service_documents)
    ids = [operation["operationId"] for _m, _p, operation in operations(document)]
    assert len(ids) == len(set(ids))
    assert len(ids) == sum(len(operations(d)) for d in service_documents.values())


def test_combined_document_routes_each_operation_to_its_service(
    service_documents: dict[str, dict[str, Any]],
) -> None:
    document = combined(service_documents)
    operation = document["paths"]["/screening-api/fhir/QuestionnaireResponse"]["post"]
    assert operation["operationId"] == "screening.createQuestionnaireResponse"
    assert operation["x-signpost-service"] == "screening-api"
    assert operation["x-signpost-path"] == "/fhir/QuestionnaireResponse"
    assert operation["tags"] == ["screening: QuestionnaireResponse"]


def test_combined_document_references_resolve(
    service_documents: dict[str, dict[str, Any]],
) -> None:
    document = combined(service_documents)
    schemas = document["components"]["schemas"]
    missing = {
        ref for ref in _refs(document) if ref.removeprefix("#/components/schemas/") not in schemas
    }
    assert missing == set()


@pytest.mark.parametrize(
    "status, media_type", [(404, "application/fhir+json"), (429, "application/fhir+json")]
)
def test_fhir_errors_are_operation_outcomes(
    service_documents: dict[str, dict[str, Any]], status: int, media_type: str
) -> None:
    operation = service_documents["screening"]["paths"][
        "/fhir/QuestionnaireResponse/{response_id}"
    ]["get"]
    content = operation["responses"][str(status)]["content"]
    assert list(content) == [media_type]
    assert content[media_type]["schema"] == {"$ref": "#/components/schemas/OperationOutcome"}
    assert content[media_type]["example"]["resourceType"] == "OperationOutcome"


def test_other_errors_are_problem_details(service_documents: dict[str, dict[str, Any]]) -> None:
    operation = service_documents["directory"]["paths"]["/services"]["post"]
    for status in ("400", "401", "403", "413", "415", "422", "429", "500"):
        content = operation["responses"][status]["content"]
        assert list(content) == ["application/problem+json"], status
        assert content["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/Problem"
        }
    assert operation["x-signpost-scope"] == "directory:write"
    assert operation["security"] == [{"bearer": []}]


def test_open_reads_declare_no_scope(service_documents: dict[str, dict[str, Any]]) -> None:
    operation = service_documents["directory"]["paths"]["/services"]["get"]
    assert "security" not in operation
    assert "401" not in operation["responses"]


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def test_links_lead_to_operations_of_their_own_service_in_the_combined_document(
    service_documents: dict[str, dict[str, Any]],
) -> None:
    document = combined(service_documents)
    ids = {operation["operationId"] for _m, _p, operation in operations(document)}
    links = [
        (operation["operationId"], link["operationId"])
        for _m, _p, operation in operations(document)
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
    ]

    assert ("referral.createServiceRequest", "referral.readServiceRequest") in links
    assert all(target in ids for _source, target in links)
    assert all(source.split(".")[0] == target.split(".")[0] for source, target in links)
