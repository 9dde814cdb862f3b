"""Bulk import of an ORUK export: progress, an error report, nothing half-written, no duplicates."""

import json
import re

import orjson

from tests.directory.builders import new_id
from tests.directory.conftest import WRITE
from tests.support.rows import fetch_rows


async def export(seeded_client, search):
    response = await seeded_client.get(f"/services?format=ndjson&full=true&search={search}")
    return [json.loads(line) for line in response.text.strip().split("\n")]


def as_new(services):
    """The same services under new ids (taxonomy ids kept), so each test imports its own."""
    text = orjson.dumps(services).decode()
    shared = {
        value
        for service in services
        for attribute in service.get("attributes", [])
        for value in (
            attribute["taxonomy_term_id"],
            attribute["taxonomy_term"].get("taxonomy_id"),
            attribute["taxonomy_term"].get("parent_id"),
        )
        if value
    }
    ids = set(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text))
    for old in ids - shared:
        text = text.replace(old, new_id())
    return orjson.loads(text)


async def test_an_ndjson_export_imports_and_reads_back_the_same(client, seeded_client):
    services = as_new(await export(seeded_client, "advice"))
    body = b"\n".join(orjson.dumps(s) for s in services)

    response = await client.post(
        "/imports", content=body, headers={**WRITE, "Content-Type": "application/x-ndjson"}
    )

    assert response.status_code == 201, response.text
    report = response.json()
    assert report["status"] == "completed"
    assert report["total_records"] == report["imported_records"] == len(services) >= 3
    assert report["errors"] == []
    for original in services:
        imported = (await client.get(f"/services/{original['id']}")).json()
        for key in ("name", "description", "schedules", "languages", "service_areas"):
            assert imported.get(key) == original.get(key), key
        assert imported["organization"]["name"] == original["organization"]["name"]
        assert [link["location"] for link in imported["service_at_locations"]] == [
            link["location"] for link in original["service_at_locations"]
        ]
    progress = (
        await client.get(report["url"].removeprefix("http://directory.test"), headers=WRITE)
    ).json()
    assert progress["processed_records"] == len(services)


async def test_importing_the_same_export_again_changes_nothing(client, seeded_client):
    services = as_new(await export(seeded_client, "befriending"))
    first = await client.post("/imports", json=services, headers=WRITE)
    before = (await client.get(f"/services/{services[0]['id']}")).json()

    again = (await client.post("/imports", json={"contents": services}, headers=WRITE)).json()

    assert first.json()["imported_records"] == 1
    assert again["imported_records"] == 0 and again["unchanged_records"] == 1
    assert (await client.get(f"/services/{services[0]['id']}")).json() == before


async def test_bad_records_are_reported_and_write_nothing_the_rest_import(
    client, seeded_client, directory_app
):
    exported = as_new(await export(seeded_client, "advice"))
    bad_location = next(
        s for s in exported if "addresses" in s["service_at_locations"][0]["location"]
    )
    good, bad_email = [s for s in exported if s is not bad_location][:2]
    bad_email["email"] = "nobody-at-all"
    bad_location["service_at_locations"][0]["location"]["addresses"][0]["postal_code"] = "E15"

    report = (
        await client.post(
            "/imports", json=[good, bad_email, bad_location, "not a service"], headers=WRITE
        )
    ).json()

    assert (report["imported_records"], report["failed_records"]) == (1, 3)
    by_record = {error["record"]: error for error in report["errors"]}
    assert by_record[2]["field"] == "email" and by_record[2]["id"] == bad_email["id"]
    assert by_record[3]["field"] == "service_at_locations[0].location.addresses[0].postal_code"
    assert 4 in by_record
    for service in (bad_email, bad_location):
        assert (
            await fetch_rows(
                directory_app, "SELECT id FROM service WHERE id = :id", id=service["id"]
            )
            == []
        )
    organization_of_bad = bad_location["organization"]["id"]
    assert (
        await fetch_rows(
            directory_app, "SELECT id FROM organization WHERE id = :id", id=organization_of_bad
        )
        == []
    )
    assert (await client.get(f"/services/{good['id']}")).status_code == 200


async def test_import_needs_json_and_the_write_scope(client):
    wrong_type = await client.post(
        "/imports", content=b"<xml/>", headers={**WRITE, "Content-Type": "application/xml"}
    )
    anonymous = await client.post("/imports", json=[])

    assert wrong_type.status_code == 415
    assert anonymous.status_code == 401
