"""The OpenAPI documents other teams build against: committed, complete and consistent."""

import json
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


@pytest.mark.parametrize("status", [404, 429])
def test_fhir_errors_are_operation_outcomes(
    service_documents: dict[str, dict[str, Any]], status: int
) -> None:
    operation = service_documents["screening"]["paths"][
        "/fhir/QuestionnaireResponse/{response_id}"
    ]["get"]
    content = operation["responses"][str(status)]["content"]
    assert sorted(content) == ["application/fhir+json", "application/json"]
    for media in content.values():
        assert media["schema"] == {"$ref": "#/components/schemas/OperationOutcome"}
        assert media["example"]["resourceType"] == "OperationOutcome"


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
    assert operation["security"] == []
    assert "x-signpost-scope" not in operation
    assert "401" not in operation["responses"]


def test_the_smart_configuration_is_public_plain_json(
    service_documents: dict[str, dict[str, Any]],
) -> None:
    for document in service_documents.values():
        for path in ("/fhir/.well-known/smart-configuration", "/.well-known/smart-configuration"):
            operation = document["paths"][path]["get"]
            assert operation["security"] == [] and "x-signpost-scope" not in operation
            assert "401" not in operation["responses"]
            assert list(operation["responses"]["200"]["content"]) == ["application/json"]
            example = operation["responses"]["200"]["content"]["application/json"]["example"]
            assert example["grant_types_supported"] == ["client_credentials"]


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def test_fhir_bodies_and_answers_have_a_schema_under_both_json_media_types(
    service_documents: dict[str, dict[str, Any]],
) -> None:
    gaps = []
    for service, document in service_documents.items():
        for method, path, operation in operations(document):
            if not path.startswith("/fhir") or "/.well-known/" in path:
                continue  # not FHIR, or a discovery document (plain JSON, tested above)
            bodies = {"request": operation["requestBody"]} if "requestBody" in operation else {}
            bodies |= {status: answer for status, answer in operation["responses"].items()}
            for name, body in bodies.items():
                content = body.get("content", {})
                if not {"application/fhir+json", "application/json"} & set(content):
                    continue  # no body, or a form (POST .../_search)
                for media in ("application/fhir+json", "application/json"):
                    if not content.get(media, {}).get("schema"):
                        gaps.append(f"{service} {method} {path} {name} {media}")
    assert gaps == []


def test_process_message_takes_and_answers_message_bundles(
    service_documents: dict[str, dict[str, Any]],
) -> None:
    operation = service_documents["referral"]["paths"]["/fhir/$process-message"]["post"]
    body = operation["requestBody"]["content"]["application/fhir+json"]["schema"]
    assert body == {"$ref": "#/components/schemas/MessageBundle"}
    for status in ("200", "202"):
        answer = operation["responses"][status]["content"]["application/fhir+json"]["schema"]
        assert answer == {"$ref": "#/components/schemas/ResponseMessage"}


def test_operation_outcomes_may_carry_every_r4_issue_type(
    service_documents: dict[str, dict[str, Any]],
) -> None:
    schemas = service_documents["referral"]["components"]["schemas"]
    codes = schemas["OperationOutcomeIssue"]["properties"]["code"]["enum"]
    assert set(codes) == R4_ISSUE_TYPES


def test_fhir_schemas_never_allow_null(service_documents: dict[str, dict[str, Any]]) -> None:
    schemas = service_documents["referral"]["components"]["schemas"]
    for name in ("ServiceRequest", "OperationOutcomeIssue", "ResponseMessage", "Meta"):
        assert '"null"' not in json.dumps(schemas[name]), name
    priority = schemas["ServiceRequest"]["properties"]["priority"]
    assert priority["enum"] == ["routine", "urgent", "asap", "stat"]
    assert "default" not in priority


def test_every_operation_declares_its_security_and_every_document_its_servers(
    service_documents: dict[str, dict[str, Any]],
) -> None:
    for document in service_documents.values():
        assert document["servers"][0]["url"] == "/"
        for _method, _path, operation in operations(document):
            expected = [{"bearer": []}] if operation.get("x-signpost-scope") else []
            assert operation["security"] == expected


def test_constraints_are_published_as_json_schema_keywords(
    service_documents: dict[str, dict[str, Any]],
) -> None:
    text = json.dumps(service_documents)
    for pydantic_name in ('"ge":', '"le":', '"gt":', '"lt":'):
        assert pydantic_name not in text
    age = service_documents["directory"]["components"]["schemas"]["ServiceIn"]["properties"]
    assert age["minimum_age"]["anyOf"][0]["minimum"] == 0
    assert age["maximum_age"]["anyOf"][0]["maximum"] == 130


# http://hl7.org/fhir/R4/valueset-issue-type.html
R4_ISSUE_TYPES = {
    "invalid",
    "structure",
    "required",
    "value",
    "invariant",
    "security",
    "login",
    "unknown",
    "expired",
    "forbidden",
    "suppressed",
    "processing",
    "not-supported",
    "duplicate",
    "multiple-matches",
    "not-found",
    "deleted",
    "too-long",
    "code-invalid",
    "extension",
    "too-costly",
    "business-rule",
    "conflict",
    "transient",
    "lock-error",
    "no-store",
    "exception",
    "timeout",
    "incomplete",
    "throttled",
    "informational",
}


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
