"""ServiceRequest over HTTP as FHIR clients expect it: Location and Content-Location name the
version written, vread serves the current version, conditional reads answer 304."""

from tests.referral.conftest import READ, WRITE
from tests.support.builders import service_request


async def test_create_names_the_version_in_location_and_content_location(client):
    response = await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)

    assert response.status_code == 201
    referral_id = response.json()["id"]
    expected = f"/fhir/ServiceRequest/{referral_id}/_history/1"
    assert response.headers["location"].endswith(expected)
    assert response.headers["content-location"] == response.headers["location"]


async def test_update_names_the_new_version(client):
    created = await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)
    referral_id = created.json()["id"]
    body = {**created.json(), "priority": "urgent"}

    updated = await client.put(
        f"/fhir/ServiceRequest/{referral_id}",
        json=body,
        headers={**WRITE, "If-Match": created.headers["etag"]},
    )

    assert updated.status_code == 200, updated.text
    expected = f"/fhir/ServiceRequest/{referral_id}/_history/2"
    assert updated.headers["content-location"].endswith(expected)
    assert updated.headers["location"].endswith(expected)


async def test_vread_serves_the_current_version_and_404s_any_other(client):
    created = await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)
    referral_id = created.json()["id"]

    current = await client.get(f"/fhir/ServiceRequest/{referral_id}/_history/1", headers=READ)
    other = await client.get(f"/fhir/ServiceRequest/{referral_id}/_history/7", headers=READ)
    nobody = await client.get(
        "/fhir/ServiceRequest/00000000-0000-4000-8000-000000000000/_history/1", headers=READ
    )

    assert current.status_code == 200
    assert current.json() == created.json()
    assert current.headers["etag"] == 'W/"1"'
    assert other.status_code == 404
    assert other.json()["resourceType"] == "OperationOutcome"
    assert "only the current version" in other.json()["issue"][0]["diagnostics"]
    assert nobody.status_code == 404


async def test_vread_of_a_replaced_version_is_404(client):
    created = await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)
    referral_id = created.json()["id"]
    await client.put(
        f"/fhir/ServiceRequest/{referral_id}",
        json={**created.json(), "priority": "urgent"},
        headers={**WRITE, "If-Match": created.headers["etag"]},
    )

    first = await client.get(f"/fhir/ServiceRequest/{referral_id}/_history/1", headers=READ)
    second = await client.get(f"/fhir/ServiceRequest/{referral_id}/_history/2", headers=READ)

    assert first.status_code == 404
    assert second.status_code == 200
    assert second.json()["priority"] == "urgent"


async def test_a_stale_etag_reads_the_new_version(client):
    created = await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)
    referral_id = created.json()["id"]
    url = f"/fhir/ServiceRequest/{referral_id}"
    await client.put(
        url,
        json={**created.json(), "priority": "urgent"},
        headers={**WRITE, "If-Match": created.headers["etag"]},
    )

    stale = await client.get(url, headers={**READ, "If-None-Match": created.headers["etag"]})
    fresh = await client.get(url, headers={**READ, "If-None-Match": 'W/"2"'})

    assert stale.status_code == 200
    assert stale.json()["priority"] == "urgent"
    assert fresh.status_code == 304


async def test_xml_is_refused_with_406(client):
    response = await client.get(
        "/fhir/ServiceRequest", headers={**READ, "Accept": "application/fhir+xml"}
    )

    assert response.status_code == 406
    assert response.json()["resourceType"] == "OperationOutcome"
