"""Curation: create, update, retire and assure, with versions, retries and cascades."""

import copy
from datetime import date

from tests.directory.builders import location, new_id, organization, service, service_type
from tests.directory.conftest import WRITE
from tests.directory.helpers import all_items
from tests.support.clients import bearer
from tests.support.rows import fetch_rows


async def make_service(client, **changes):
    org = organization()
    place = location()
    assert (await client.post("/organizations", json=org, headers=WRITE)).status_code == 201
    assert (await client.post("/locations", json=place, headers=WRITE)).status_code == 201
    body = service(org["id"], [place["id"]], **changes)
    response = await client.post("/services", json=body, headers=WRITE)
    assert response.status_code == 201, response.text
    return org, place, body, response


async def test_create_returns_201_with_location_etag_and_the_nested_document(client):
    org, place, body, response = await make_service(client)

    assert response.headers["location"] == f"http://directory.test/services/{body['id']}"
    assert response.headers["etag"] == 'W/"1"'
    created = response.json()
    assert created["organization"]["name"] == org["name"]
    link = created["service_at_locations"][0]
    assert link["location_id"] == place["id"]
    assert link["location"]["addresses"][0]["postal_code"] == "E7 9NJ"
    assert created["attributes"][0]["taxonomy_term"]["name"] == "Debt advice"
    assert created == (await client.get(f"/services/{body['id']}")).json()


async def test_location_without_coordinates_takes_its_postcode_centroid(client):
    place = location("E12 6AA")

    created = (await client.post("/locations", json=place, headers=WRITE)).json()

    assert (created["latitude"], created["longitude"]) == (51.5503, 0.054)


async def test_repeated_create_returns_the_same_service_unchanged(client, directory_app):
    _, _, body, first = await make_service(client)

    again = await client.post("/services", json=body, headers=WRITE)

    assert again.status_code == 200
    assert again.json() == first.json()
    rows = await fetch_rows(
        directory_app, "SELECT count(*) AS n FROM service WHERE id = :id", id=body["id"]
    )
    assert rows == [{"n": 1}]


async def test_create_with_a_taken_id_and_other_content_is_a_conflict(client):
    _, _, body, _ = await make_service(client)
    changed = {**body, "name": "Something else"}

    response = await client.post("/services", json=changed, headers=WRITE)

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "duplicate"
    assert (await client.get(f"/services/{body['id']}")).json()["name"] == body["name"]


async def test_update_with_a_stale_version_is_412_and_changes_nothing(client):
    _, _, body, _ = await make_service(client)
    url = f"/services/{body['id']}"
    first = await client.put(
        url, json={**body, "name": "Renamed once"}, headers={**WRITE, "If-Match": 'W/"1"'}
    )
    assert first.status_code == 200 and first.headers["etag"] == 'W/"2"'

    stale = await client.put(
        url, json={**body, "name": "Renamed twice"}, headers={**WRITE, "If-Match": 'W/"1"'}
    )

    assert stale.status_code == 412
    assert stale.json()["errors"][0]["parameter"] == "If-Match"
    assert (await client.get(url)).json()["name"] == "Renamed once"


async def test_update_moves_last_modified_on(client):
    _, _, body, created = await make_service(client)

    updated = await client.put(
        f"/services/{body['id']}", json={**body, "alert": "Closed Friday"}, headers=WRITE
    )

    assert updated.json()["last_modified"] > created.json()["last_modified"]
    assert updated.json()["alert"] == "Closed Friday"


async def test_changing_the_organisation_rerenders_and_bumps_its_services(client):
    org, _, body, created = await make_service(client)
    since = created.json()["last_modified"]

    renamed = await client.put(
        f"/organizations/{org['id']}",
        json={**org, "name": "Forest Gate Trust (renamed)"},
        headers=WRITE,
    )

    assert renamed.status_code == 200
    service_now = (await client.get(f"/services/{body['id']}")).json()
    assert service_now["organization"]["name"] == "Forest Gate Trust (renamed)"
    assert service_now["last_modified"] > since
    changed = await all_items(client, f"/services?modified_after={service_now['last_modified']}")
    assert body["id"] in {s["id"] for s in changed}


async def test_changing_a_location_rerenders_its_services(client):
    _, place, body, _ = await make_service(client)
    moved = copy.deepcopy(place)
    moved["addresses"][0]["postal_code"] = "E7 0DH"

    assert (
        await client.put(f"/locations/{place['id']}", json=moved, headers=WRITE)
    ).status_code == 200

    link = (await client.get(f"/services/{body['id']}")).json()["service_at_locations"][0]
    assert link["location"]["addresses"][0]["postal_code"] == "E7 0DH"
    assert link["location"]["latitude"] == 51.549


async def test_renaming_a_term_rerenders_the_services_that_use_it(client):
    term = {
        "id": new_id(),
        "name": "Money clinic",
        "description": "Local money clinics",
        "code": f"test:{new_id()[:8]}",
    }
    assert (await client.post("/taxonomy_terms", json=term, headers=WRITE)).status_code == 201
    _, _, body, _ = await make_service(client, attributes=[{"taxonomy_term_id": term["id"]}])

    await client.put(
        f"/taxonomy_terms/{term['id']}", json={**term, "name": "Money surgery"}, headers=WRITE
    )

    attribute = (await client.get(f"/services/{body['id']}")).json()["attributes"][0]
    assert attribute["taxonomy_term"]["name"] == "Money surgery"


async def test_retired_service_is_defunct_readable_and_gone_from_lists(client, directory_app):
    org, _, body, _ = await make_service(client)

    retired = await client.post(f"/services/{body['id']}/retire", headers=WRITE)

    assert retired.status_code == 200
    assert (await client.get(f"/services/{body['id']}")).json()["status"] == "defunct"
    listed = await all_items(client, f"/services?organization_id={org['id']}")
    assert listed == []
    minimal = (await client.get("/services?minimal=true")).json()["contents"]
    assert body["id"] not in {item["id"] for item in minimal}
    rows = await fetch_rows(
        directory_app, "SELECT status FROM service WHERE id = :id", id=body["id"]
    )
    assert rows == [{"status": "defunct"}]
    again = await client.post(f"/services/{body['id']}/retire", headers=WRITE)
    assert again.status_code == 200
    update = await client.put(f"/services/{body['id']}", json=body, headers=WRITE)
    assert update.status_code == 409


async def test_organisation_with_live_services_cannot_be_retired(client):
    org, place, body, _ = await make_service(client)

    refused = await client.post(f"/organizations/{org['id']}/retire", headers=WRITE)
    location_refused = await client.post(f"/locations/{place['id']}/retire", headers=WRITE)
    await client.post(f"/services/{body['id']}/retire", headers=WRITE)
    allowed = await client.post(f"/organizations/{org['id']}/retire", headers=WRITE)

    assert refused.status_code == 409 and body["id"] in refused.json()["detail"]
    assert location_refused.status_code == 409
    assert allowed.status_code == 200
    assert (await client.get(f"/organizations/{org['id']}")).status_code == 200


async def test_term_in_use_cannot_be_retired(client):
    await make_service(client)

    refused = await client.post(
        f"/taxonomy_terms/{service_type('debt-advice')}/retire", headers=WRITE
    )

    assert refused.status_code == 409


async def test_assuring_sets_the_date_and_leaves_the_unassured_report(client):
    _, _, old, _ = await make_service(client, assured_date="2024-01-15")

    report = (await client.get("/reports/unassured?months=3", headers=WRITE)).json()
    assured = await client.post(
        f"/services/{old['id']}/assure",
        json={"assurer_email": "checker@newham.gov.example"},
        headers=WRITE,
    )
    after = (await client.get("/reports/unassured?months=3", headers=WRITE)).json()

    assert old["id"] in {s["id"] for s in report["services"]}
    assert {"id": old["id"], "name": old["name"], "assured_date": "2024-01-15"} in report[
        "services"
    ]
    assert assured.json()["assured_date"] == date.today().isoformat()
    assert assured.json()["assurer_email"] == "checker@newham.gov.example"
    assert old["id"] not in {s["id"] for s in after["services"]}


async def test_assured_within_months_filters_on_assured_date(client):
    _, _, recent, _ = await make_service(client, assured_date=date.today().isoformat())
    _, _, stale, _ = await make_service(client, assured_date="2023-05-01")

    found = {s["id"] for s in await all_items(client, "/services?assured_within_months=3")}

    assert recent["id"] in found and stale["id"] not in found


async def test_curation_needs_a_token_with_directory_write(client):
    body = organization()

    anonymous = await client.post("/organizations", json=body)
    wrong_scope = await client.post("/organizations", json=body, headers=bearer("referral:read"))

    assert anonymous.status_code == 401
    assert wrong_scope.status_code == 403
    assert (await client.get(f"/organizations/{body['id']}")).status_code == 404


async def test_a_child_id_owned_by_another_service_is_a_conflict(client):
    _, _, first, created = await make_service(client)
    attribute_id = created.json()["attributes"][0]["id"]
    org, place = organization(), location()
    await client.post("/organizations", json=org, headers=WRITE)
    await client.post("/locations", json=place, headers=WRITE)
    body = service(
        org["id"],
        [place["id"]],
        attributes=[{"id": attribute_id, "taxonomy_term_id": service_type("debt-advice")}],
    )

    response = await client.post("/services", json=body, headers=WRITE)

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "duplicate"
    assert (await client.get(f"/services/{body['id']}")).status_code == 404
    assert (await client.get(f"/services/{first['id']}")).json()["attributes"][0]["id"] == (
        attribute_id
    )
