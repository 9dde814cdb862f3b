"""Curation writes with invalid data: 422 naming the field, and nothing is written."""

import copy

import pytest

from tests.directory.builders import location, new_id, organization, service
from tests.directory.conftest import WRITE
from tests.support.rows import fetch_rows


@pytest.fixture
async def provider(client):
    org = organization()
    place = location()
    await client.post("/organizations", json=org, headers=WRITE)
    await client.post("/locations", json=place, headers=WRITE)
    return org["id"], place["id"]


def changed(body, path, value):
    body = copy.deepcopy(body)
    target = body
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


BAD_SERVICES = {
    "email": (("email",), "not-an-email", "email"),
    "url": (("url",), "www.example", "url"),
    "status": (("status",), "open", "status"),
    "defunct needs retire": (("status",), "defunct", "status"),
    "negative age": (("minimum_age",), -1, "minimum_age"),
    "ages crossed": (("maximum_age",), 10, "(body)"),
    "schedule closes before it opens": (("schedules", 0, "closes_at"), "08:00", "schedules[0]"),
    "schedule day": (("schedules", 0, "byday"), "MO,XX", "schedules[0]"),
    "schedule time": (("schedules", 0, "opens_at"), "9am", "schedules[0]"),
    "language code": (("languages", 0, "code"), "english", "languages[0].code"),
    "cost negative": (("cost_options",), [{"amount": -3}], "cost_options[0].amount"),
    "phone": (("phones", 0, "number"), "call us", "phones[0].number"),
    "unknown field": (("colour",), "blue", "colour"),
    "organization not a uuid": (("organization_id",), "F84001", "organization_id"),
    "unknown organization": (
        ("organization_id",),
        "5c1b2f7e-0a0a-4b4b-8c8c-9d9d9d9d9d9d",
        "organization_id",
    ),
    "unknown location": (
        ("service_at_locations", 0, "location_id"),
        "5c1b2f7e-0a0a-4b4b-8c8c-9d9d9d9d9d9d",
        "service_at_locations[0].location_id",
    ),
    "unknown term": (
        ("attributes", 0, "taxonomy_term_id"),
        "5c1b2f7e-0a0a-4b4b-8c8c-9d9d9d9d9d9d",
        "attributes[0].taxonomy_term_id",
    ),
    "no name": (("name",), KeyError, "name"),
    "assured in the future": (("assured_date",), "2999-01-01", "assured_date"),
    "assured not a date": (("assured_date",), "01/02/2026", "assured_date"),
}


@pytest.mark.parametrize("case", BAD_SERVICES, ids=list(BAD_SERVICES))
async def test_invalid_service_is_refused_and_nothing_is_written(
    client, directory_app, provider, case
):
    organization_id, location_id = provider
    path, value, field = BAD_SERVICES[case]
    body = changed(service(organization_id, [location_id]), path, value)

    response = await client.post("/services", json=body, headers=WRITE)

    assert response.status_code == 422, response.text
    problem = response.json()
    assert field in [error.get("parameter") for error in problem["errors"]], problem
    rows = await fetch_rows(directory_app, "SELECT id FROM service WHERE id = :id", id=body["id"])
    assert rows == []


BAD_LOCATIONS = {
    "malformed postcode": (("addresses", 0, "postal_code"), "E15", "addresses[0].postal_code"),
    "not in the UK": (("latitude",), 40.7, "(body)"),
    "country": (("addresses", 0, "country"), "US", "addresses[0].country"),
    "type": (("location_type",), "building", "location_type"),
}


@pytest.mark.parametrize("case", BAD_LOCATIONS, ids=list(BAD_LOCATIONS))
async def test_invalid_location_is_refused_and_nothing_is_written(client, directory_app, case):
    path, value, field = BAD_LOCATIONS[case]
    body = changed(location(), path, value)
    if path == ("latitude",):
        body["longitude"] = -74.0

    response = await client.post("/locations", json=body, headers=WRITE)

    assert response.status_code == 422, response.text
    assert field in [error.get("parameter") for error in response.json()["errors"]]
    assert (
        await fetch_rows(directory_app, "SELECT id FROM location WHERE id = :id", id=body["id"])
        == []
    )


async def test_invalid_organisation_website_is_refused(client, directory_app):
    body = organization(website="forestgate-trust")

    response = await client.post("/organizations", json=body, headers=WRITE)

    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "website"
    assert (
        await fetch_rows(directory_app, "SELECT id FROM organization WHERE id = :id", id=body["id"])
        == []
    )


async def test_failed_update_leaves_the_service_and_its_links_as_they_were(client, provider):
    organization_id, location_id = provider
    body = service(organization_id, [location_id])
    before = (await client.post("/services", json=body, headers=WRITE)).json()
    bad = {**body, "service_at_locations": [{"location_id": new_id()}]}

    response = await client.put(f"/services/{body['id']}", json=bad, headers=WRITE)

    assert response.status_code == 422
    assert (await client.get(f"/services/{body['id']}")).json() == before


async def test_malformed_json_is_400_and_wrong_content_type_is_415(client):
    malformed = await client.post(
        "/services", content=b'{"name": ', headers={**WRITE, "Content-Type": "application/json"}
    )
    wrong_type = await client.post(
        "/services", content=b"name=x", headers={**WRITE, "Content-Type": "text/plain"}
    )

    assert malformed.status_code == 400
    assert wrong_type.status_code == 415


async def test_term_parent_loop_is_refused(client):
    first = {"id": new_id(), "name": "Parent", "description": "p"}
    second = {"id": new_id(), "name": "Child", "description": "c", "parent_id": first["id"]}
    await client.post("/taxonomy_terms", json=first, headers=WRITE)
    await client.post("/taxonomy_terms", json=second, headers=WRITE)

    response = await client.put(
        f"/taxonomy_terms/{first['id']}", json={**first, "parent_id": second["id"]}, headers=WRITE
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "parent_id"


async def test_assurance_in_the_future_or_malformed_is_refused(client, provider):
    organization_id, location_id = provider
    body = service(organization_id, [location_id])
    await client.post("/services", json=body, headers=WRITE)
    url = f"/services/{body['id']}/assure"

    future = await client.post(url, json={"assured_date": "2999-01-01"}, headers=WRITE)
    malformed = await client.post(
        url, content=b"{", headers={**WRITE, "Content-Type": "application/json"}
    )

    assert future.status_code == 422
    assert future.json()["errors"][0]["parameter"] == "assured_date"
    assert malformed.status_code == 400
    assert (await client.get(f"/services/{body['id']}")).json()["assured_date"] == "2026-10-01"
