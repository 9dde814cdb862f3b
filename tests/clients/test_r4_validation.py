"""The R4 validation of what the tests receive: the corpus keeps one resource per shape, and the
independent validator (`node/validate.mjs`, @medplum/core with the R4 definitions) catches
what is not FHIR R4, FHIRPath invariants included, and passes what is."""

import json
from pathlib import Path

from tests.clients import scenario
from tests.support import fhir_corpus
from tests.support.tools import requires_tools

needs_validator = requires_tools(fhir_corpus.missing(), fhir_corpus.SETUP, fhir_corpus.REQUIRE)


def served(identifier: str, **changes: object) -> dict[str, object]:
    return {
        **scenario.referral(identifier, **changes),
        "id": f"id-{identifier}",
        "meta": {"versionId": "1", "lastUpdated": "2026-10-01T10:00:00.000Z"},
    }


def test_corpus_keeps_one_resource_per_shape() -> None:
    corpus = fhir_corpus.Corpus()

    corpus.add(served("A", authored="2026-10-01T10:00:00Z"))
    corpus.add(served("B", authored="2026-11-02T11:30:00Z"))  # same shape: ids and dates differ
    corpus.add(served("C", status="on-hold"))  # a status is a meaning: a shape of its own
    corpus.add(served("D", authored="2026-10-01"))  # a date where a dateTime was: another format

    assert corpus.received == 4
    assert [r["identifier"][0]["value"] for r in corpus.resources.values()] == ["A", "C", "D"]


def test_corpus_keeps_the_resources_of_a_bundle_as_resources_too() -> None:
    corpus = fhir_corpus.Corpus()
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": 2,
        "entry": [{"resource": served("A")}, {"resource": served("B", status="revoked")}],
    }

    corpus.add(bundle)
    corpus.add({**bundle, "total": 3})

    kinds = [(r["resourceType"], r.get("status")) for r in corpus.resources.values()]
    assert kinds == [("Bundle", None), ("ServiceRequest", "active"), ("ServiceRequest", "revoked")]


def test_a_paused_corpus_keeps_nothing() -> None:
    corpus = fhir_corpus.Corpus()
    corpus.paused = True

    corpus.add(served("A"))

    assert (corpus.received, corpus.resources) == (0, {})


@needs_validator
def test_validator_reports_what_is_not_fhir_r4(tmp_path: Path) -> None:
    without_intent = served("NO-INTENT")
    del without_intent["intent"]
    resources = [
        served("VALID"),
        without_intent,  # ServiceRequest.intent is 1..1
        {**served("BAD-DATE"), "authoredOn": "01/10/2026"},
        {**served("UNKNOWN"), "referralColour": "blue"},
        # bdl-1: total only when a search or history
        {"resourceType": "Bundle", "type": "message", "total": 1},
        # que-6: a display item is never required
        {
            "resourceType": "Questionnaire",
            "status": "active",
            "item": [{"linkId": "1", "type": "display", "required": True}],
        },
        {"resourceType": "OperationOutcome", "issue": [{"severity": "warning", "code": " x"}]},
    ]
    ndjson = tmp_path / "resources.ndjson"
    ndjson.write_text("".join(json.dumps({"test": "t", "resource": r}) + "\n" for r in resources))

    result = fhir_corpus.validate(ndjson)

    assert result["validated"] == len(resources)
    found = {
        (f.get("id") or f["resourceType"], expression)
        for f in result["failures"]
        for issue in f["issues"]
        for expression in issue.get("expression", [])
    }
    assert found == {
        ("id-NO-INTENT", "ServiceRequest.intent"),
        ("id-BAD-DATE", "ServiceRequest.authoredOn"),
        ("id-UNKNOWN", "ServiceRequest.referralColour"),
        ("Bundle", "Bundle"),
        ("Questionnaire", "Questionnaire.item[0]"),
        ("OperationOutcome", "OperationOutcome.issue[0].code"),
    }
    invariants = [
        issue["details"]["text"]
        for f in result["failures"]
        for issue in f["issues"]
        if issue["code"] == "invariant"
    ]
    assert any(text.startswith("Constraint bdl-1 not met") for text in invariants)
    assert any(text.startswith("Constraint que-6 not met") for text in invariants)
    assert {f["test"] for f in result["failures"]} == {"t"}
