"""Updating referrals: PUT naming the version it replaces (If-Match, else meta.versionId),
optimistic locking."""

import asyncio

import pytest

from tests.referral.conftest import WRITE
from tests.support.builders import SNOMED_REASONS, reason, service_request
from tests.support.conflicts import failing_once
from tests.support.rows import fetch_rows


async def create(client):
    response = await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)
    return response.json()


def changed(created, **changes):
    body = service_request(**changes)
    body["id"] = created["id"]
    return body


async def test_update_with_current_version_replaces_the_referral(client, referral_app):
    created = await create(client)
    body = changed(
        created,
        status="completed",
        reasons=[reason(SNOMED_REASONS["food"]), reason(SNOMED_REASONS["housing"])],
    )

    response = await client.put(
        f"/fhir/ServiceRequest/{created['id']}", json=body, headers={**WRITE, "If-Match": 'W/"1"'}
    )

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == 'W/"2"'
    assert response.json()["meta"]["versionId"] == "2"
    assert response.json()["status"] == "completed"
    rows = await fetch_rows(
        referral_app, "SELECT rank, reason_code FROM referral_reason ORDER BY rank"
    )
    assert rows == [
        {"rank": 1, "reason_code": "733423003"},
        {"rank": 2, "reason_code": "105531004"},
    ]
    [row] = await fetch_rows(referral_app, "SELECT status, version FROM referral")
    assert row == {"status": "completed", "version": 2}


async def test_update_with_stale_version_is_412_and_changes_nothing(client, referral_app):
    created = await create(client)
    url = f"/fhir/ServiceRequest/{created['id']}"
    await client.put(
        url, json=changed(created, status="on-hold"), headers={**WRITE, "If-Match": 'W/"1"'}
    )

    stale = await client.put(
        url, json=changed(created, status="revoked"), headers={**WRITE, "If-Match": 'W/"1"'}
    )

    assert stale.status_code == 412
    assert stale.json()["issue"][0]["expression"] == ["If-Match"]
    [row] = await fetch_rows(referral_app, "SELECT status, version FROM referral")
    assert row == {"status": "on-hold", "version": 2}


async def test_concurrent_updates_of_one_version_let_exactly_one_win(client, referral_app):
    created = await create(client)
    url = f"/fhir/ServiceRequest/{created['id']}"
    responses = await asyncio.gather(
        *(
            client.put(
                url, json=changed(created, status=status), headers={**WRITE, "If-Match": 'W/"1"'}
            )
            for status in ("on-hold", "revoked", "completed", "active")
        )
    )

    assert sorted(r.status_code for r in responses) == [200, 412, 412, 412]
    [row] = await fetch_rows(referral_app, "SELECT version FROM referral")
    assert row["version"] == 2


async def test_update_without_if_match_is_428(client):
    created = await create(client)

    response = await client.put(
        f"/fhir/ServiceRequest/{created['id']}", json=changed(created), headers=WRITE
    )

    assert response.status_code == 428


async def test_update_without_if_match_replaces_the_version_its_meta_names(client, referral_app):
    created = await create(client)
    body = {**changed(created, status="on-hold"), "meta": created["meta"]}

    response = await client.put(f"/fhir/ServiceRequest/{created['id']}", json=body, headers=WRITE)

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == 'W/"2"'
    [row] = await fetch_rows(referral_app, "SELECT status, version FROM referral")
    assert row == {"status": "on-hold", "version": 2}


async def test_update_whose_meta_names_a_stale_version_is_412(client, referral_app):
    created = await create(client)
    url = f"/fhir/ServiceRequest/{created['id']}"
    stale = {**changed(created, status="revoked"), "meta": created["meta"]}
    await client.put(
        url, json=changed(created, status="on-hold"), headers={**WRITE, "If-Match": 'W/"1"'}
    )

    response = await client.put(url, json=stale, headers=WRITE)

    assert response.status_code == 412
    [row] = await fetch_rows(referral_app, "SELECT status, version FROM referral")
    assert row == {"status": "on-hold", "version": 2}


async def test_if_match_wins_over_meta_version_id(client, referral_app):
    created = await create(client)
    body = {**changed(created, status="on-hold"), "meta": {"versionId": "7"}}

    response = await client.put(
        f"/fhir/ServiceRequest/{created['id']}", json=body, headers={**WRITE, "If-Match": 'W/"1"'}
    )

    assert response.status_code == 200, response.text
    assert response.json()["meta"]["versionId"] == "2"


async def test_update_whose_meta_version_is_not_a_version_is_400(client, referral_app):
    created = await create(client)
    body = {**changed(created, status="on-hold"), "meta": {"versionId": "abc"}}

    response = await client.put(f"/fhir/ServiceRequest/{created['id']}", json=body, headers=WRITE)

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["meta.versionId"]
    [row] = await fetch_rows(referral_app, "SELECT status, version FROM referral")
    assert row == {"status": "active", "version": 1}


async def test_update_with_mismatched_id_is_400(client):
    created = await create(client)
    body = changed(created)
    body["id"] = "another-id"

    response = await client.put(
        f"/fhir/ServiceRequest/{created['id']}", json=body, headers={**WRITE, "If-Match": 'W/"1"'}
    )

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["ServiceRequest.id"]


async def test_update_without_an_id_is_400_naming_the_missing_id_and_changes_nothing(
    client, referral_app
):
    created = await create(client)
    body = changed(created)
    del body["id"]

    response = await client.put(
        f"/fhir/ServiceRequest/{created['id']}", json=body, headers={**WRITE, "If-Match": 'W/"1"'}
    )

    assert response.status_code == 400
    [issue] = response.json()["issue"]
    assert issue["expression"] == ["ServiceRequest.id"]
    assert issue["diagnostics"] == (
        f"the resource has no id: it must carry the id in the URL ({created['id']})"
    )
    [row] = await fetch_rows(referral_app, "SELECT status, version FROM referral")
    assert row == {"status": "active", "version": 1}


async def test_update_of_unknown_referral_is_404(client):
    body = service_request()
    body["id"] = "missing"

    response = await client.put(
        "/fhir/ServiceRequest/missing", json=body, headers={**WRITE, "If-Match": 'W/"1"'}
    )

    assert response.status_code == 404


async def test_update_cannot_take_another_referrals_identifier(client, referral_app):
    first = await create(client)
    second = (
        await client.post(
            "/fhir/ServiceRequest", json=service_request(identifier="EMIS-0002"), headers=WRITE
        )
    ).json()

    response = await client.put(
        f"/fhir/ServiceRequest/{second['id']}",
        json=changed(second, identifier="EMIS-0001"),
        headers={**WRITE, "If-Match": 'W/"1"'},
    )

    assert response.status_code == 409
    assert first["id"] in response.json()["issue"][0]["diagnostics"]
    [row] = await fetch_rows(
        referral_app, "SELECT version FROM referral WHERE id = :id", id=second["id"]
    )
    assert row["version"] == 1


@pytest.mark.postgres_only
async def test_an_update_that_meets_a_write_conflict_is_run_again_and_applied_once(
    client, referral_app
):
    created = await create(client)

    async with failing_once(referral_app, "referral", "UPDATE") as attempts:
        response = await client.put(
            f"/fhir/ServiceRequest/{created['id']}",
            json=changed(created, status="on-hold"),
            headers={**WRITE, "If-Match": 'W/"1"'},
        )
        # The first attempt met the conflict and was rolled back; the second was stored.
        assert await attempts() >= 2

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == 'W/"2"'
    [row] = await fetch_rows(referral_app, "SELECT status, version FROM referral")
    assert row == {"status": "on-hold", "version": 2}
    updates = await fetch_rows(
        referral_app,
        "SELECT resource_id FROM audit_event WHERE action = 'update' AND resource_type = "
        "'ServiceRequest'",
    )
    assert updates == [{"resource_id": created["id"]}]
