"""FHIR Bulk Data `$export`: kick-off, status, manifest and NDJSON files; `_since`, `_type`,
Groups, pseudonymised exports, the scope, cancelling, and a run taken over after it stopped."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from fhir.resources.R4B import get_fhir_model_class
from sqlalchemy import func, select

from referral_api.export.models import ExportJob
from referral_api.export.service import claim_next, pseudonymised
from referral_api.export.worker import ExportWorker
from signpost_schemas import systems
from signpost_schemas.fhir import profiles
from tests.referral.careplans import plans
from tests.referral.conftest import READ, WRITE
from tests.referral.export.conftest import (
    ASYNC,
    EXPORTER,
    PSEUDONYMISED_ONLY,
    files,
    finished,
    kick_off,
    send,
)
from tests.support.builders import NHS_NUMBERS, service_request
from tests.support.clients import bearer
from tests.support.messages import journey

PSEUDONYM = systems.PERSON_PSEUDONYM
LINK = profiles.LINKED_REFERRAL_EXTENSION


@pytest.fixture
async def two_journeys(client: httpx.AsyncClient) -> None:
    """An EMIS referral (link worker) and a Rio one (community connector), each with a Task,
    three contacts and two assessments."""
    for message in journey("emis") + journey("rio"):
        await send(client, message)


async def test_kick_off_status_manifest_and_files(
    client: httpx.AsyncClient, worker: ExportWorker, two_journeys: None
) -> None:
    response = await client.get(
        "/fhir/$export",
        params={"_outputFormat": "application/fhir+ndjson"},
        headers={**EXPORTER, **ASYNC},
    )
    assert response.status_code == 202
    status_url = response.headers["Content-Location"].removeprefix(str(client.base_url))
    waiting = await client.get(status_url, headers=EXPORTER)
    assert waiting.status_code == 202
    assert waiting.headers["X-Progress"] == "waiting to start"

    manifest = await finished(client, worker, status_url)
    assert manifest["requiresAccessToken"] is True
    assert manifest["request"].endswith("/fhir/$export?_outputFormat=application%2Ffhir%2Bndjson")
    assert manifest["error"] == []
    assert {o["type"]: o["count"] for o in manifest["output"]} == {
        "ServiceRequest": 2,
        "Task": 2,
        "Encounter": 6,
        "Observation": 4,
    }
    assert manifest["extension"]["withdrawnConsent"] == {"referrals": 0, "people": 0}
    exported = await files(client, manifest)
    for resource_type, resources in exported.items():
        model = get_fhir_model_class(resource_type)
        for resource in resources:
            assert resource["resourceType"] == resource_type
            model.model_validate(resource)
    subjects = {r["subject"]["identifier"]["value"] for r in exported["ServiceRequest"]}
    assert subjects == {NHS_NUMBERS[0], NHS_NUMBERS[1]}
    # Each line is the resource as read one by one.
    task = exported["Task"][0]
    read = await client.get(f"/fhir/Task/{task['id']}", headers=READ)
    assert read.json() == task


async def test_type_and_since_are_honoured(client: httpx.AsyncClient, worker: ExportWorker) -> None:
    first = await client.post(
        "/fhir/ServiceRequest", json=service_request(identifier="S-1"), headers=WRITE
    )
    assert first.status_code == 201
    between = datetime.now(UTC)
    second = await client.post(
        "/fhir/ServiceRequest",
        json=service_request(identifier="S-2", nhs_number=NHS_NUMBERS[2]),
        headers=WRITE,
    )
    assert second.status_code == 201

    status_url = await kick_off(
        client, _type="ServiceRequest", _since=between.isoformat().replace("+00:00", "Z")
    )
    manifest = await finished(client, worker, status_url)
    exported = await files(client, manifest)
    assert list(exported) == ["ServiceRequest"]
    assert [r["id"] for r in exported["ServiceRequest"]] == [second.json()["id"]]

    everything = await finished(client, worker, await kick_off(client, _type="ServiceRequest,Task"))
    assert [o["type"] for o in everything["output"]] == ["ServiceRequest"]
    assert everything["output"][0]["count"] == 2


async def test_an_unknown_type_is_refused_and_nothing_recorded(
    client: httpx.AsyncClient, referral_app: FastAPI
) -> None:
    response = await client.get(
        "/fhir/$export", params={"_type": "Patient"}, headers={**EXPORTER, **ASYNC}
    )
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["_type"]
    assert await _jobs(referral_app) == 0


async def test_kick_off_needs_prefer_respond_async(client: httpx.AsyncClient) -> None:
    response = await client.get("/fhir/$export", headers=EXPORTER)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Prefer"]


@pytest.mark.parametrize(
    "headers",
    [READ, WRITE, bearer("reports:read", "referral:all-organisations")],
    ids=["read", "write", "reports"],
)
async def test_a_caller_without_the_scope_gets_403_and_nothing_is_written(
    client: httpx.AsyncClient, referral_app: FastAPI, headers: dict[str, str]
) -> None:
    for path in ("/fhir/$export", "/fhir/Group/role-care-navigator/$export"):
        response = await client.get(path, headers={**headers, **ASYNC})
        assert response.status_code == 403, response.text
        assert response.json()["resourceType"] == "OperationOutcome"
    assert await _jobs(referral_app) == 0


async def test_pseudonymised_export_holds_no_nhs_number(
    client: httpx.AsyncClient, worker: ExportWorker, two_journeys: None
) -> None:
    for headers, params in ((EXPORTER, {"_pseudonymise": "true"}), (PSEUDONYMISED_ONLY, {})):
        manifest = await finished(
            client, worker, await kick_off(client, headers=headers, **params), headers
        )
        assert manifest["extension"]["pseudonymised"] is True
        exported = await files(client, manifest, headers)
        text = str(exported)
        for nhs_number in NHS_NUMBERS:
            assert nhs_number not in text
        assert "Damp flat" not in text  # free text left out
        assert "EMIS-2026-0001" not in text  # the sender's referral number too
        pseudonyms = {
            resource["subject"]["identifier"]["value"]
            for resource in exported["ServiceRequest"] + exported["Encounter"]
        }
        assert len(pseudonyms) == 2  # one per person, the same in every file
        for resource in exported["Task"]:
            assert resource["for"]["identifier"]["system"] == systems.PERSON_PSEUDONYM
            assert resource["for"]["identifier"]["value"] in pseudonyms
        for resource_type, resources in exported.items():
            for resource in resources:
                get_fhir_model_class(resource_type).model_validate(resource)


async def test_an_identifiable_export_is_not_served_to_a_caller_who_may_not_export_one(
    client: httpx.AsyncClient, worker: ExportWorker, two_journeys: None
) -> None:
    status_url = await kick_off(client)
    manifest = await finished(client, worker, status_url)
    assert manifest["extension"]["pseudonymised"] is False
    file_url = manifest["output"][0]["url"].removeprefix(str(client.base_url))
    for url in (status_url, file_url):
        assert (await client.get(url, headers=PSEUDONYMISED_ONLY)).status_code == 404
    # Asking for an identifiable export without the scope gets a pseudonymised one.
    forced = await finished(
        client,
        worker,
        await kick_off(client, headers=PSEUDONYMISED_ONLY, _pseudonymise="false"),
        PSEUDONYMISED_ONLY,
    )
    assert forced["extension"]["pseudonymised"] is True


async def test_group_level_export_by_role_and_by_receiving_organisation(
    client: httpx.AsyncClient, worker: ExportWorker, two_journeys: None
) -> None:
    received = service_request(
        identifier="G-1",
        nhs_number=NHS_NUMBERS[3],
        performer=[{"identifier": {"system": systems.ODS_ORGANIZATION, "value": "Y02001"}}],
    )
    response = await client.post("/fhir/ServiceRequest", json=received, headers=WRITE)
    assert response.status_code == 201

    by_role = await finished(
        client, worker, await kick_off(client, "/fhir/Group/role-community-connector/$export")
    )
    exported = await files(client, by_role)
    assert [r["subject"]["identifier"]["value"] for r in exported["ServiceRequest"]] == [
        NHS_NUMBERS[1]
    ]
    assert len(exported["Encounter"]) == 3

    by_organisation = await finished(
        client, worker, await kick_off(client, "/fhir/Group/organization-Y02001/$export")
    )
    assert [(o["type"], o["count"]) for o in by_organisation["output"]] == [("ServiceRequest", 1)]

    unknown = await client.get("/fhir/Group/ward-7/$export", headers={**EXPORTER, **ASYNC})
    assert unknown.status_code == 404


async def test_an_organisation_exports_only_its_own_referrals(
    client: httpx.AsyncClient, worker: ExportWorker, two_journeys: None
) -> None:
    other = service_request(identifier="O-1", requester="F84002", nhs_number=NHS_NUMBERS[4])
    assert (await client.post("/fhir/ServiceRequest", json=other, headers=WRITE)).status_code == 201
    practice = bearer("referral:export", "referral:export-identifiable", ods="F84002")
    manifest = await finished(client, worker, await kick_off(client, headers=practice), practice)
    exported = await files(client, manifest, practice)
    assert [r["subject"]["identifier"]["value"] for r in exported["ServiceRequest"]] == [
        NHS_NUMBERS[4]
    ]
    assert list(exported) == ["ServiceRequest"]
    # The status and the files are the exporter's own.
    status_url = manifest["output"][0]["url"].removeprefix(str(client.base_url))
    assert (await client.get(status_url, headers=EXPORTER)).status_code == 404


async def test_cancel_deletes_the_job_and_its_files(
    client: httpx.AsyncClient, worker: ExportWorker, referral_app: FastAPI, two_journeys: None
) -> None:
    status_url = await kick_off(client)
    manifest = await finished(client, worker, status_url)
    file_url = manifest["output"][0]["url"].removeprefix(str(client.base_url))
    cancelled = await client.delete(status_url, headers=EXPORTER)
    assert cancelled.status_code == 202
    assert (await client.get(status_url, headers=EXPORTER)).status_code == 404
    assert (await client.get(file_url, headers=EXPORTER)).status_code == 404
    assert await _jobs(referral_app) == 0
    # Cancelled before it ran: the worker finds nothing to do.
    waiting = await kick_off(client)
    assert (await client.delete(waiting, headers=EXPORTER)).status_code == 202
    assert await worker.run_pending() == 0


async def test_a_stopped_run_is_taken_over_once_its_heartbeat_is_stale(
    client: httpx.AsyncClient, worker: ExportWorker, referral_app: FastAPI, two_journeys: None
) -> None:
    status_url = await kick_off(client)
    stale = worker.run_settings.stale_after
    # A run claims the job, then its process dies before writing anything.
    claimed = await claim_next(referral_app.state.database.sessionmaker, datetime.now(UTC), stale)
    assert claimed is not None
    running = await client.get(status_url, headers=EXPORTER)
    assert running.status_code == 202
    assert await worker.run_pending() == 0  # its heartbeat is fresh: left alone

    later = ExportWorker(
        referral_app.state.database,
        referral_app.state.settings.model_copy(update={"export_batch_size": 2}),
        clock=lambda: datetime.now(UTC) + stale + timedelta(seconds=1),
    )
    assert await later.run_pending() == 1
    manifest = (await client.get(status_url, headers=EXPORTER)).json()
    assert sum(o["count"] for o in manifest["output"]) == 14


async def _jobs(app: FastAPI) -> int:
    async with app.state.database.sessionmaker() as session:
        return int(
            (await session.execute(select(func.count()).select_from(ExportJob))).scalar_one()
        )


async def test_a_finished_export_is_deleted_after_its_retention(
    client: httpx.AsyncClient, worker: ExportWorker, referral_app: FastAPI, two_journeys: None
) -> None:
    status_url = await kick_off(client)
    await finished(client, worker, status_url)
    assert await worker.run_pending() == 0
    assert (await client.get(status_url, headers=EXPORTER)).status_code == 200  # still kept
    retention = worker.run_settings.retention
    later = ExportWorker(
        referral_app.state.database,
        referral_app.state.settings,
        clock=lambda: datetime.now(UTC) + retention + timedelta(seconds=1),
    )
    await later.run_pending()
    assert (await client.get(status_url, headers=EXPORTER)).status_code == 404
    assert await _jobs(referral_app) == 0


async def test_care_plans_are_exported_and_pseudonymised(
    client: httpx.AsyncClient, worker: ExportWorker
) -> None:
    referral_id = await plans.referral(client, "P-1", nhs_number=NHS_NUMBERS[2])
    response = await client.post("/fhir/CarePlan", json=plans.care_plan(referral_id), headers=WRITE)
    assert response.status_code == 201, response.text

    for params in ({}, {"_pseudonymise": "true"}):
        manifest = await finished(
            client, worker, await kick_off(client, _type="CarePlan", **params)
        )
        [plan] = (await files(client, manifest))["CarePlan"]
        get_fhir_model_class("CarePlan").model_validate(plan)
        assert plan["id"] == response.json()["id"]
        if params:
            assert NHS_NUMBERS[2] not in str(plan)
            assert "See friends every week" not in str(plan)  # free text in contained goals
        if params:
            # The coded goal stays, pseudonymised, and the plan's reference to it resolves.
            assert [goal["id"] for goal in plan["contained"]] == ["goal-1"]
            assert plan["goal"] == [{"reference": "#goal-1"}]
            assert plan["contained"][0]["description"] == {
                "coding": [{"system": systems.SNOMED, "code": "422650009"}]
            }
            assert "description" not in plan  # the person's own words
            assert all("description" not in activity["detail"] for activity in plan["activity"])


def test_a_pseudonymised_resource_keeps_no_free_text_and_no_dangling_reference() -> None:
    plan = {
        "resourceType": "CarePlan",
        "contained": [
            {"resourceType": "Goal", "id": "coded", "description": {"coding": [{"code": "1"}]}},
            {"resourceType": "Goal", "id": "words", "description": {"text": "Walk to the park"}},
            {"resourceType": "Patient", "id": "p", "name": [{"family": "Example"}]},
        ],
        "subject": {"reference": "#p"},
        "goal": [{"reference": "#coded"}, {"reference": "#words"}],
        "note": [{"text": "Lives with Sam"}],
        "activity": [{"detail": {"description": "Tuesday walk", "status": "scheduled"}}],
    }
    referral = {
        "resourceType": "ServiceRequest",
        "reasonCode": [{"text": "not known"}, {"coding": [{"code": "2"}], "text": "lonely"}],
        "patientInstruction": "Call after 5",
    }

    assert pseudonymised(plan, "-7") == {
        "resourceType": "CarePlan",
        "subject": {"type": "Patient", "identifier": {"system": PSEUDONYM, "value": "-7"}},
        "goal": [{"reference": "#coded"}],
        "activity": [{"detail": {"status": "scheduled"}}],
        "contained": [
            {"resourceType": "Goal", "id": "coded", "description": {"coding": [{"code": "1"}]}}
        ],
    }
    assert pseudonymised(referral, "-7") == {
        "resourceType": "ServiceRequest",
        "reasonCode": [{"coding": [{"code": "2"}]}],
    }


async def test_exported_referrals_carry_their_links_as_the_api_serves_them(
    client: httpx.AsyncClient, worker: ExportWorker
) -> None:
    """A warehouse sees that one person was referred to two roles at once, as a reader does."""
    person = NHS_NUMBERS[4]
    for identifier, role, authored in (
        ("LINK-1", "social-prescribing-link-worker", "2026-10-01T10:00:00Z"),
        ("LINK-2", "care-navigator", "2026-10-05T10:00:00Z"),
    ):
        body = service_request(
            identifier=identifier, nhs_number=person, role=role, authored=authored
        )
        assert (
            await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)
        ).status_code == 201
    served = (await client.get("/fhir/ServiceRequest", headers=READ)).json()["entry"]

    for headers, params in ((EXPORTER, {}), (EXPORTER, {"_pseudonymise": "true"})):
        manifest = await finished(client, worker, await kick_off(client, headers=headers, **params))
        exported = {r["id"]: r for r in (await files(client, manifest))["ServiceRequest"]}

        for entry in served:
            links = [e for e in entry["resource"]["extension"] if e["url"] == LINK]
            assert len(links) == 1
            assert [
                e for e in exported[entry["resource"]["id"]]["extension"] if e["url"] == LINK
            ] == (links)
